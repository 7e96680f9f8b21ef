"""RabbitMQ message priority on the notifications queue, with a real worker started late."""

import pytest

from messaging.routing import Priority
from notifications.models import Audience, Channel, Event, Notification
from services.notifications.fanout import notifications_create
from services.orders import OrderLine, order_create
from testing import servers
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_transactional_message_overtakes_a_backlog_of_informational_ones(empty_queues):
    customer = UserFactory.create(email="backlog@example.com")
    order = order_create(customer=customer, items=[OrderLine(ProductFactory.create(stock=5).pk, 1)])
    servers.published()
    servers.purge_queues()  # only what this test publishes below
    Notification.objects.all().delete()
    payload = {"order": {"id": order.pk, "total": "10.00", "currency": "USD"}}
    notifications_create(
        notifications=[
            Notification(
                event=Event.ORDER_SHIPPED,
                audience=Audience.CUSTOMER,
                channel=Channel.EMAIL,
                recipient=f"low{n}@example.com",
                payload=payload,
                order=order,
            )
            for n in range(200)
        ]
    )
    (urgent,) = notifications_create(
        notifications=[
            Notification(
                event=Event.ORDER_PAID,
                audience=Audience.CUSTOMER,
                channel=Channel.EMAIL,
                recipient="urgent@example.com",
                payload=payload,
                order=order,
            )
        ]
    )
    assert urgent.priority == Priority.TRANSACTIONAL > Priority.INFORMATIONAL
    assert servers.queue_depth("notifications") == 201

    with servers.smtp_server() as (mailbox, port):
        worker = servers.WorkerProcess("notifications", extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{port}"})
        worker.start()
        try:
            first = mailbox.wait_for(5, timeout=60)
        finally:
            worker.stop()
        servers.purge_queues()

    order_of_arrival = [m.recipients[0] for m in first]
    assert "urgent@example.com" in order_of_arrival[:3], order_of_arrival
