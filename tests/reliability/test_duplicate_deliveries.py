"""Scenario 7: the same payment callback and the same notification task, delivered many times at once.

Duplicates are what at-least-once delivery produces (a relay killed between publishing and marking,
a redelivery after a lost ack). Four worker processes take them concurrently;
the effects must happen once: one e-mail per notification, the order paid once,
one set of "paid" notifications.
"""

import pytest
from django.test import Client

from notifications.models import Audience, Event, Notification, NotificationStatus
from orders.models import CallbackState, OrderStatus, PaymentCallback
from pro_platform.celery import app
from services.orders import OrderLine, order_create
from testing import servers
from testing.payments import callback_body, post_callback
from tests.reliability.conftest import await_deliveries, expected_emails

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

COPIES = 30


def test_many_concurrent_copies_of_a_callback_and_of_notifications_have_one_effect(
    shop, empty_queues, report
):
    order = order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
    response = post_callback(Client(), callback_body(order))
    assert response.status_code == 202
    callback = PaymentCallback.objects.get(order=order)
    created = list(Notification.objects.filter(order=order, event=Event.ORDER_CREATED))
    for _ in range(COPIES - 1):  # the original of each is already queued
        app.send_task(
            "orders.tasks.process_payment_callback",
            kwargs={"callback_id": callback.pk},
            task_id=callback.task_id,
        )
        for notification in created:
            app.send_task(
                "notifications.tasks.send_notification", kwargs={"notification_id": notification.pk}
            )
    assert servers.queue_depth("payments") == COPIES
    assert servers.queue_depth("notifications") == COPIES * len(created)

    with servers.smtp_server() as (mailbox, smtp_port):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        workers = [
            servers.WorkerProcess("payments,notifications", concurrency=2, extra_env=env) for _ in range(2)
        ]
        with servers.running(*workers):
            assert servers.wait_until(
                lambda: Notification.objects.filter(order=order, event=Event.ORDER_PAID).count() == 2, 60
            )
            deliveries = await_deliveries(mailbox, expected_emails([order.pk]), timeout=60)
            assert servers.wait_until(
                lambda: servers.queue_depth("payments") + servers.queue_depth("notifications") == 0, 60
            )

    callback.refresh_from_db()
    order.refresh_from_db()
    assert callback.state == CallbackState.APPLIED
    assert order.status == OrderStatus.PAID
    paid = Notification.objects.filter(order=order, event=Event.ORDER_PAID)
    assert sorted(paid.values_list("audience", flat=True)) == [Audience.CUSTOMER, Audience.SELLER]
    assert set(Notification.objects.filter(order=order).values_list("status", flat=True)) == {
        NotificationStatus.SENT
    }
    assert len(deliveries.expected) == 4  # created and paid, to the customer and the seller
    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    assert len(mailbox.accepted) == 4
    report(
        "scenario 7, concurrent duplicates",
        delivered=f"{COPIES} copies of one callback and of 2 notification tasks to 4 worker processes",
        effects="order paid once, 2 paid notifications, 4 e-mails, 0 copies",
    )
