"""The whole path with real parts: API -> PostgreSQL -> RabbitMQ -> Celery worker -> SMTP."""

from collections.abc import Iterator

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from notifications.models import Notification
from orders.models import Order
from pro_platform.celery import app
from services.orders import OrderLine, order_create
from testing import servers
from testing.auth import bearer
from testing.servers import wait_until
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def mailbox_and_worker(
    rabbitmq_vhost: str, django_db_setup: None
) -> Iterator[tuple[servers.SmtpSink, servers.WorkerProcess]]:
    servers.purge_queues()
    with servers.smtp_server() as (sink, port):
        worker = servers.WorkerProcess(
            "notifications,default", concurrency=2, extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{port}"}
        ).start()
        try:
            yield sink, worker
        finally:
            worker.stop()


def test_an_order_placed_through_the_api_is_confirmed_by_email(api_client, mailbox_and_worker):
    mailbox, worker = mailbox_and_worker
    product = ProductFactory.create(seller=SellerFactory.create(email="shop@example.com"), stock=3)
    api_client.post("/api/v1/auth/register/", {"email": "eve@example.com", "password": "a-long-enough-pass"})
    token = api_client.post(
        "/api/v1/auth/token/", {"email": "eve@example.com", "password": "a-long-enough-pass"}
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.post("/api/v1/orders/", {"items": [{"product_id": product.pk, "quantity": 2}]})
    assert response.status_code == 201
    order_id = response.json()["id"]

    mails = mailbox.wait_for(2, timeout=30)
    assert sorted(m.recipients[0] for m in mails) == ["eve@example.com", "shop@example.com"], worker.log()
    by_recipient = {m.recipients[0]: m.message for m in mails}
    assert by_recipient["eve@example.com"]["Subject"] == f"Your order #{order_id} is confirmed"
    assert by_recipient["shop@example.com"]["Subject"].startswith(f"New order #{order_id}")

    notifications = Notification.objects.filter(order_id=order_id)
    assert wait_until(lambda: set(notifications.values_list("status", flat=True)) == {"sent"})
    assert list(notifications.values_list("attempts", flat=True)) == [1, 1]

    confirmation = notifications.get(recipient="eve@example.com")
    staff = APIClient()  # a notification's task is not handed out to the customer: staff follow it
    staff.credentials(HTTP_AUTHORIZATION=bearer(UserFactory.create(is_staff=True)))
    assert wait_until(
        lambda: staff.get(f"/api/v1/tasks/{confirmation.task_id}/").json()["state"] == "SUCCESS"
    )
    status = staff.get(f"/api/v1/tasks/{confirmation.task_id}/").json()
    assert status["result"] == "sent"
    assert status["error"] is None
    assert status["date_done"] is not None
    assert mailbox.wait_for(1, timeout=1) == []  # nothing sent twice


def test_a_redelivered_task_sends_nothing_more(api_client, mailbox_and_worker):
    """At-least-once delivery: publishing the same task again must not e-mail again."""

    mailbox, _ = mailbox_and_worker
    order = order_create(
        customer=UserFactory.create(), items=[OrderLine(ProductFactory.create(stock=1).pk, 1)]
    )
    assert len(mailbox.wait_for(2, timeout=30)) == 2
    confirmation = Notification.objects.get(order=order, recipient=order.customer.email)
    assert wait_until(lambda: Notification.objects.get(pk=confirmation.pk).status == "sent")

    app.send_task("notifications.tasks.send_order_confirmation", kwargs={"notification_id": confirmation.pk})

    assert mailbox.wait_for(1, timeout=5) == []
    confirmation.refresh_from_db()
    assert confirmation.attempts == 1


def test_a_rolled_back_order_sends_nothing(mailbox_and_worker):

    mailbox, _ = mailbox_and_worker
    product = ProductFactory.create(stock=2)

    def place_then_fail() -> None:
        with transaction.atomic():
            order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
            raise LookupError("payment provider said no")

    with pytest.raises(LookupError):
        place_then_fail()

    assert mailbox.wait_for(1, timeout=3) == []
    assert Order.objects.count() == 0
    assert Notification.objects.count() == 0
    assert servers.queue_depth("notifications") == 0
