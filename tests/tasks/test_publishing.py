"""What reaches RabbitMQ, read back off the wire with pika (no worker consumes here)."""

import json

import pytest
from django.db import transaction

import notifications.tasks  # noqa: F401  (registered, as in a web process)
from messaging.routing import Priority
from notifications.models import Notification
from orders.models import Order
from services.orders import OrderLine, order_create
from testing import servers
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queues")]


def test_a_committed_order_publishes_its_notifications_with_their_priorities():
    customer = UserFactory.create()
    product = ProductFactory.create(seller=SellerFactory.create())

    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])

    messages = servers.drain("notifications")
    confirmation, seller_notice = Notification.objects.filter(order=order).order_by("id")
    assert [(m.task, m.priority, m.headers["id"]) for m in messages] == [
        ("notifications.tasks.send_order_confirmation", Priority.TRANSACTIONAL, confirmation.task_id),
        ("notifications.tasks.send_seller_notification", Priority.SELLER, seller_notice.task_id),
    ]
    args, kwargs, _ = json.loads(messages[0].body)
    assert (args, kwargs) == ([], {"notification_id": confirmation.pk})
    assert all(servers.queue_depth(name) == 0 for name in ("payments", "default", "periodic"))


def test_queues_are_durable_prioritised_and_dead_lettered():
    from messaging.routing import MAX_PRIORITY, QUEUES

    with servers.amqp_channel() as channel:
        for queue in QUEUES:
            # A declare with different arguments would fail: these are the live ones.
            channel.queue_declare(
                queue.name,
                durable=True,
                arguments={"x-max-priority": MAX_PRIORITY, "x-dead-letter-exchange": "dead_letters"},
            )
        channel.queue_declare("dead_letters", durable=True)
    assert {q.name for q in QUEUES} == {"payments", "notifications", "default", "periodic"}


def test_a_rolled_back_order_publishes_nothing():
    product = ProductFactory.create(stock=5)
    customer = UserFactory.create()

    class Abort(Exception):
        pass

    def place_then_fail() -> None:
        with transaction.atomic():
            order_create(customer=customer, items=[OrderLine(product.pk, 2)])
            raise Abort

    with pytest.raises(Abort):
        place_then_fail()

    assert servers.queue_depth("notifications") == 0
    assert Order.objects.count() == 0
    assert Notification.objects.count() == 0
    product.refresh_from_db()
    assert product.stock == 5
