"""Scenario 1: RabbitMQ unreachable for 20 seconds while 300 orders are placed.

The web server, the worker and the relay all reach RabbitMQ through a TCP proxy the
test cuts (open connections dropped, new ones refused) and restores. Every order
must be answered 201 at once, and once the broker is back every confirmation and
seller notice must be sent, each once. The control run, with the outbox off,
shows what the plain `transaction.on_commit(task.delay)` loses.
"""

import time

import pytest

from messaging.models import OutboxMessage
from orders.models import Order
from testing import servers
from tests.reliability.conftest import (
    acknowledged,
    await_deliveries,
    expected_emails,
    latency_figures,
    place_orders,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

OUTAGE_SECONDS = 20
ORDERS = 300


def run_outage(shop, *, orders: int, outage: float, outbox: bool, wait: float = 120):
    """Place `orders` during an outage of `outage` seconds; return replies, mailbox and timings."""
    proxy = servers.TcpProxy(5672).start()
    via_proxy = {
        "TEST_CELERY_BROKER_URL": servers.broker_url_via(proxy.port),
        "TASK_PUBLISHING": "outbox" if outbox else "on_commit",
    }
    with servers.smtp_server() as (mailbox, smtp_port):
        web = servers.WebServer(extra_env=via_proxy)
        worker = servers.WorkerProcess(
            "notifications",
            concurrency=2,
            extra_env={**via_proxy, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"},
        )
        relay = servers.RelayProcess(extra_env=via_proxy)
        with servers.running(web, worker, relay):
            proxy.cut()
            cut_at = time.monotonic()
            replies = place_orders(web.url, shop, orders, spread=outage - 2)
            placed_in = time.monotonic() - cut_at
            published_during_outage = OutboxMessage.objects.exclude(published_at=None).count()
            time.sleep(max(0.0, outage - (time.monotonic() - cut_at)))
            proxy.restore()
            committed = Order.objects.filter(customer=shop.customer).values_list("id", flat=True)
            deliveries = await_deliveries(mailbox, expected_emails(committed), timeout=wait)
            assert worker.alive(), worker.log()[-3000:]
            assert relay.alive(), relay.log()[-3000:]
    proxy.stop()
    return replies, deliveries, placed_in, published_during_outage


def test_orders_placed_while_rabbitmq_is_unreachable_are_all_confirmed_once(shop, report):
    replies, deliveries, placed_in, published_during_outage = run_outage(
        shop, orders=ORDERS, outage=OUTAGE_SECONDS, outbox=True
    )

    assert [reply.status for reply in replies] == [201] * ORDERS
    assert set(acknowledged(replies)) == set(Order.objects.values_list("id", flat=True))
    assert placed_in < OUTAGE_SECONDS  # every order was placed while the broker was unreachable
    assert published_during_outage == 0
    assert len(deliveries.expected) == 2 * ORDERS  # the customer's confirmation and the seller's notice
    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    assert OutboxMessage.objects.filter(published_at=None).count() == 0
    report(
        "scenario 1, broker down 20 s",
        orders=f"{ORDERS} x 201 in {placed_in:.1f} s",
        request_latency=latency_figures(replies),
        emails=f"{len(deliveries.expected)} expected, all sent {deliveries.seconds:.1f} s after it returned",
        duplicates=deliveries.copies,
    )


def test_control_without_the_outbox_an_outage_loses_confirmations(shop, report):
    orders = 40
    replies, deliveries, _, _ = run_outage(shop, orders=orders, outage=6, outbox=False, wait=8)

    statuses = [reply.status for reply in replies]
    committed = Order.objects.filter(customer=shop.customer).count()
    lost = deliveries.missing
    # The publish fails in on_commit, after the commit: the order exists but the client got a 500.
    assert committed == orders
    assert statuses.count(201) < orders
    assert len(deliveries.expected) == 2 * orders
    assert len(lost) > 0
    report(
        "control for scenario 1, outbox off, broker down 6 s",
        orders=f"{orders} committed, {statuses.count(201)} answered 201, {statuses.count(500)} answered 500",
        emails=f"{len(lost)} of {len(deliveries.expected)} never sent",
    )
