"""Notifications: decided with the business change, delivered later by a worker.

routes.py    who hears of each event, over which channels
fanout.py    the rows a change calls for, published after commit; resend; the stuck sweep
delivery.py  rendering and sending one notification, retries, giving up
alerts.py    telling the administrators about failures, one by one or in a summary
"""
