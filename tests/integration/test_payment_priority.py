"""A payment callback does not wait behind a notification backlog: its own queue and worker."""

import time

import pytest
from django.test import Client

from orders.models import CallbackState, OrderStatus, PaymentCallback
from services.orders import OrderLine, order_create
from testing import servers
from testing.backlog import queued_notifications
from testing.payments import callback_body, post_callback
from testing.servers import wait_until
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BACKLOG = 1000


def test_a_callback_is_applied_within_seconds_despite_1000_waiting_notifications(empty_queues, capsys):
    order = order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])
    queued_notifications(BACKLOG, order=order)
    assert servers.queue_depth("notifications") >= BACKLOG

    with servers.smtp_server() as (mailbox, port):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}"}
        notifications_worker = servers.WorkerProcess("notifications", extra_env=env).start()
        payments_worker = servers.WorkerProcess("payments", extra_env=env).start()
        try:
            assert mailbox.wait_for(5, timeout=30), "the notifications worker is busy with the backlog"
            started = time.monotonic()
            response = post_callback(Client(), callback_body(order))
            assert response.status_code == 202
            callback = PaymentCallback.objects.get(pk=response.json()["callback_id"])
            applied = wait_until(
                lambda: PaymentCallback.objects.get(pk=callback.pk).state == CallbackState.APPLIED, timeout=30
            )
            elapsed = time.monotonic() - started
            still_waiting = servers.queue_depth("notifications")
        finally:
            payments_worker.stop()
            notifications_worker.stop()
            servers.purge_queues()

    assert applied, payments_worker.log()[-2000:]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert still_waiting > BACKLOG // 2  # it did not wait for the backlog to drain
    with capsys.disabled():
        print(
            f"\npayment callback applied {elapsed:.2f}s after the POST; "
            f"{still_waiting} notifications still queued"
        )
