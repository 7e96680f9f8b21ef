"""The harness the test suite and the benchmarks share: never imported by product code.

servers.py   local SMTP and Telegram Bot API servers, the product's processes (web,
             workers, relay, beat), RabbitMQ helpers and a TCP proxy that cuts connections
payments.py  signed payment-provider callbacks
auth.py      bearer tokens
backlog.py   a queue of notification tasks for a worker to get through
"""
