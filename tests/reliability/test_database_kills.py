"""Scenario 6: the web server's PostgreSQL connections killed (pg_terminate_backend) under load.

A request whose connection dies gets a 503 in the error shape and leaves nothing
half-written; every order that exists is whole (items, payment details,
notifications, outbox rows, stock taken once); the server recovers by itself.
"""

import threading

import pytest
from django.db import connection

from messaging.models import OutboxMessage
from notifications.models import Notification
from orders.models import Order, OrderItem, OrderPaymentDetails, Product
from pro_platform.exceptions import ServiceUnavailable
from testing import servers
from tests.reliability.conftest import acknowledged, await_deliveries, expected_emails, place_orders

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

ORDERS = 200
WEB_APP_NAME = "pro_platform_web_under_test"  # libpq's PGAPPNAME marks the web server's connections


class BackendKiller:
    """Terminates every PostgreSQL backend of one application, every `interval` seconds, until stopped."""

    def __init__(self, application_name: str, interval: float = 0.25) -> None:
        self.application_name = application_name
        self.interval = interval
        self.killed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with connection.cursor() as cursor:
                while not self._stop.wait(self.interval):
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE application_name = %s",
                        [self.application_name],
                    )
                    self.killed += cursor.fetchone()[0]
        finally:
            connection.close()

    def __enter__(self) -> "BackendKiller":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_killed_database_connections_give_503s_and_no_partial_order(shop, empty_queues, report):
    stock_before = {p.pk: p.stock for p in shop.products}
    with servers.smtp_server() as (mailbox, smtp_port):
        web = servers.WebServer(extra_env={"PGAPPNAME": WEB_APP_NAME})
        worker = servers.WorkerProcess(
            "notifications", concurrency=2, extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        )
        with servers.running(web, worker, servers.RelayProcess()):
            with BackendKiller(WEB_APP_NAME) as killer:
                replies = place_orders(web.url, shop, ORDERS)
            # No more kills; the same server, not restarted. A client retries what failed, with
            # the same Idempotency-Key; and new orders go through.
            committed_under_kills = set(Order.objects.values_list("id", flat=True))
            failed = [reply for reply in replies if reply.status != 201]
            retried = place_orders(web.url, shop, len(failed), keys=[r.idempotency_key for r in failed])
            after = place_orders(web.url, shop, 20)
            committed = list(Order.objects.values_list("id", flat=True))
            deliveries = await_deliveries(mailbox, expected_emails(committed), timeout=90)

    statuses = [reply.status for reply in replies]
    unavailable = [reply.body for reply in replies if reply.status == 503]
    assert set(statuses) <= {201, 503}
    assert killer.killed > 0
    assert unavailable, "no request was hit: the scenario proved nothing"
    assert all(
        body
        == {
            "type": "server_error",
            "errors": [
                {
                    "code": "service_unavailable",
                    "detail": ServiceUnavailable.default_detail,
                    "attr": None,
                }
            ],
        }
        for body in unavailable
    )
    assert [reply.status for reply in retried + after] == [201] * (len(failed) + 20)

    # Each order the clients meant to place exists exactly once, and is whole.
    assert len(committed) == ORDERS + 20
    assert set(acknowledged(replies + retried + after)) == set(committed)
    # A 503 whose commit had gone through before the connection died: the retry returned that order.
    placed_despite_503 = len(set(acknowledged(retried)) & committed_under_kills)
    assert OrderItem.objects.filter(order_id__in=committed).count() == 2 * len(committed)
    assert OrderPaymentDetails.objects.filter(order_id__in=committed).count() == len(committed)
    notifications = Notification.objects.filter(order_id__in=committed)
    assert notifications.count() == 2 * len(committed)
    assert set(OutboxMessage.objects.values_list("task_id", flat=True)) == set(
        notifications.values_list("task_id", flat=True)
    )
    for product in Product.objects.filter(pk__in=stock_before):
        assert stock_before[product.pk] - product.stock == len(committed)
    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    report(
        "scenario 6, web server's database connections killed every 250 ms",
        load=f"{ORDERS} orders from 8 clients: {statuses.count(201)} x 201, {len(unavailable)} x 503",
        backends_killed=killer.killed,
        committed=f"{len(committed)} orders, each whole; stock taken exactly once per order",
        retries=f"{len(failed)} retried with their Idempotency-Key, all 201, {placed_despite_503} of them "
        "returned the order their 503 had in fact committed",
        recovery="20 new orders all 201, no restart",
        emails=f"{len(deliveries.expected)} sent once",
    )


def test_the_relay_carries_on_when_its_database_connections_are_killed(empty_queues):
    relay = servers.RelayProcess(extra_env={"PGAPPNAME": "relay_under_test"})
    with servers.running(relay):
        with BackendKiller("relay_under_test", interval=0.005) as killer:
            servers.wait_until(lambda: "database unavailable" in relay.log(), 20)
        message = OutboxMessage.objects.create(
            task_name="notifications.tasks.send_notification", task_id="after"
        )
        assert servers.wait_until(
            lambda: OutboxMessage.objects.get(pk=message.pk).published_at is not None, 20
        ), relay.log()[-3000:]
        assert relay.alive()

    assert killer.killed > 0
    assert "database unavailable" in relay.log()
    assert [m.headers["id"] for m in servers.drain("notifications")] == ["after"]
