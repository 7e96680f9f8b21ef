"""The transactional outbox: the fast path after commit, and the relay for what it missed."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from messaging import outbox
from messaging.models import OutboxMessage
from messaging.outbox import enqueue
from messaging.relay import outbox_prune, outbox_relay_batch
from notifications.models import Notification
from orders.models import Order
from services.orders import OrderLine, order_create
from testing import servers
from testing.servers import run_concurrently
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queues")]


def age_outbox() -> None:
    """Make every unpublished message due for the relay now."""
    OutboxMessage.objects.filter(published_at=None).update(available_at=timezone.now())


def test_a_committed_enqueue_is_published_at_once_and_marked():
    task_id = enqueue("notifications.tasks.send_notification", kwargs={"notification_id": 1}, priority=3)

    servers.published()
    message = OutboxMessage.objects.get(task_id=task_id)
    assert message.published_at is not None
    (wire,) = servers.drain("notifications")
    assert (wire.task, wire.priority, wire.headers["id"]) == (
        "notifications.tasks.send_notification",
        3,
        task_id,
    )


def test_a_rolled_back_enqueue_leaves_no_row_and_no_message():
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue("notifications.tasks.send_notification", kwargs={"notification_id": 1})
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert OutboxMessage.objects.count() == 0
    assert servers.queue_depth("notifications") == 0


def dead_broker_order() -> int:
    """Place an order in a process whose broker is unreachable; return the order id.

    The order must still be placed (no error, no hang): the publish gives up after
    its bounded retries and leaves the outbox rows to the relay.
    """
    product = ProductFactory.create(stock=5)
    customer = UserFactory.create()
    script = (
        "import django; django.setup()\n"
        "from accounts.models import User\n"
        "from services.orders import OrderLine, order_create\n"
        f"customer = User.objects.get(pk={customer.pk})\n"
        f"order = order_create(customer=customer, items=[OrderLine({product.pk}, 1)])\n"
        "print('ORDER', order.pk)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pro_platform.settings.test",
        "TEST_CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{servers.free_port()}/pro_platform_test",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=servers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "could not publish notifications.tasks.send_order_confirmation" in result.stderr
    assert "the outbox relay will" in result.stderr
    return int(result.stdout.split("ORDER")[1])


def test_what_a_dead_broker_missed_is_published_by_the_relay_once():
    order_id = dead_broker_order()
    assert Order.objects.filter(pk=order_id).exists()
    pending = OutboxMessage.objects.filter(published_at=None)
    assert pending.count() == 2  # the customer's confirmation and the seller's notice
    assert servers.queue_depth("notifications") == 0

    assert outbox_relay_batch() == 0  # too fresh: the fast path may still be at it
    age_outbox()
    assert outbox_relay_batch() == 2
    assert outbox_relay_batch() == 0

    wire = servers.drain("notifications")
    notification_tasks = set(Notification.objects.filter(order_id=order_id).values_list("task_id", flat=True))
    assert {m.headers["id"] for m in wire} == notification_tasks
    assert len(wire) == 2
    assert pending.count() == 0


def test_concurrent_relays_publish_each_message_once():
    for n in range(60):
        OutboxMessage.objects.create(
            task_name="notifications.tasks.send_notification",
            kwargs={"notification_id": n},
            task_id=f"relay-{n}",
        )
    age_outbox()

    def relay() -> int:
        total = 0
        while published := outbox_relay_batch(limit=7):
            total += published
        return total

    counts = run_concurrently([relay] * 3)

    assert sum(counts) == 60
    wire = servers.drain("notifications")
    assert sorted(m.headers["id"] for m in wire) == sorted(f"relay-{n}" for n in range(60))


def test_the_relay_command_keeps_going_after_the_broker_comes_back(settings):
    order_id = dead_broker_order()
    age_outbox()
    call_command("outbox_relay", "--once")
    assert OutboxMessage.objects.filter(published_at=None).count() == 0
    assert len(servers.drain("notifications")) == 2
    assert Order.objects.filter(pk=order_id).exists()


def test_old_published_messages_are_pruned():
    old = OutboxMessage.objects.create(
        task_name="t", task_id="old", published_at=timezone.now() - timedelta(days=2)
    )
    recent = OutboxMessage.objects.create(task_name="t", task_id="recent", published_at=timezone.now())
    unpublished = OutboxMessage.objects.create(task_name="t", task_id="waiting")
    assert outbox_prune(older_than=timedelta(hours=24)) == 1
    assert set(OutboxMessage.objects.values_list("task_id", flat=True)) == {
        recent.task_id,
        unpublished.task_id,
    }
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()


def test_an_order_writes_its_outbox_rows_in_its_own_transaction():
    order = order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])
    notification_tasks = set(Notification.objects.filter(order=order).values_list("task_id", flat=True))
    assert set(OutboxMessage.objects.values_list("task_id", flat=True)) == notification_tasks
    servers.published()
    assert OutboxMessage.objects.filter(published_at=None).count() == 0


@pytest.mark.parametrize(("mode", "published"), [("on_commit", 1), ("off", 0)])
def test_the_measurement_references_keep_no_outbox_row(settings, mode, published):
    settings.TASK_PUBLISHING = mode
    task_id = enqueue("notifications.tasks.send_notification", kwargs={"notification_id": 1})

    assert OutboxMessage.objects.count() == 0
    assert [m.headers["id"] for m in servers.drain("notifications")] == [task_id] * published


def test_no_request_waits_for_the_broker_the_publisher_thread_does(monkeypatch):
    """The commit hands the messages to this process's publisher thread and returns at once."""
    gate = threading.Event()
    real_send = outbox.send

    def slow_send(message, producer=None):
        gate.wait(10)  # a broker that takes its time to confirm
        real_send(message, producer)

    monkeypatch.setattr(outbox, "send", slow_send)
    started = time.monotonic()
    task_id = enqueue("notifications.tasks.send_notification", kwargs={"notification_id": 1})
    returned_after = time.monotonic() - started

    assert returned_after < 1
    assert OutboxMessage.objects.get(task_id=task_id).published_at is None  # still on its way
    gate.set()
    servers.published()
    assert OutboxMessage.objects.get(task_id=task_id).published_at is not None
    assert [m.headers["id"] for m in servers.drain("notifications")] == [task_id]
