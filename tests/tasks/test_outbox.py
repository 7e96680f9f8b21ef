"""The transactional outbox: requests only write rows; relays, woken by the commit, publish them."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from messaging import publishing
from messaging.models import OutboxMessage
from messaging.outbox import enqueue
from messaging.relay import CommitListener, outbox_prune, outbox_relay_batch
from notifications.models import Notification
from orders.models import Order
from services.orders import OrderLine, order_create
from testing import servers
from testing.servers import run_concurrently
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queues")]

SEND = "notifications.tasks.send_notification"


def test_a_relay_publishes_a_committed_enqueue_at_once_woken_by_the_commit():
    relay = servers.RelayProcess(interval=60)  # no polling: only the commit can wake it
    with servers.running(relay):
        time.sleep(0.5)  # past its first pass: now it waits
        task_id = enqueue(SEND, kwargs={"notification_id": 1}, priority=3)
        message = OutboxMessage.objects.filter(task_id=task_id, published_at__isnull=False)
        assert servers.wait_until(message.exists, timeout=5), relay.log()[-3000:]
    (wire,) = servers.drain("notifications")
    assert (wire.task, wire.priority, wire.headers["id"]) == (SEND, 3, task_id)
    assert message.get().attempts == 1


def test_sigterm_stops_a_relay_at_once_in_the_middle_of_a_wait():
    relay = servers.RelayProcess(interval=60).start()
    time.sleep(0.5)  # past its first pass: now it waits for a commit, for up to a minute
    assert relay.process is not None
    relay.process.send_signal(signal.SIGTERM)
    try:
        returncode = relay.process.wait(timeout=10)
    finally:
        relay.kill()
    assert returncode == 0


def test_a_rolled_back_enqueue_leaves_no_row_and_no_message():
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue(SEND, kwargs={"notification_id": 1})
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert OutboxMessage.objects.count() == 0
    assert servers.queue_depth("notifications") == 0


def test_the_listener_wakes_on_a_commit_only_and_listens_again_on_a_new_connection():
    listener = CommitListener()
    listener.listen()
    assert listener.wait(0.2) is False  # nothing committed: the timeout ends the wait

    def commit_elsewhere(*, roll_back: bool = False) -> None:
        def write() -> None:
            with transaction.atomic():
                enqueue(SEND, kwargs={"notification_id": 1})
                transaction.set_rollback(roll_back)

        (error,) = run_concurrently([write])  # another thread: another connection
        assert error is None

    commit_elsewhere(roll_back=True)
    assert listener.wait(0.5) is False
    commit_elsewhere()
    assert listener.wait(5) is True
    assert listener.wait(0.2) is False  # one commit, one wake-up

    connection.close()  # as after an error, or past CONN_MAX_AGE
    listener.listen()
    commit_elsewhere()
    assert listener.wait(5) is True


def dead_broker_order() -> int:
    """Place an order in a process whose broker is unreachable; return the order id.

    The order is placed as any other (no error, no wait): a request never talks to the broker.
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
    return int(result.stdout.split("ORDER")[1])


def test_what_a_dead_broker_missed_is_published_by_the_relay_once():
    order_id = dead_broker_order()
    assert Order.objects.filter(pk=order_id).exists()
    pending = OutboxMessage.objects.filter(published_at=None)
    assert pending.count() == 2  # the customer's confirmation and the seller's notice

    assert outbox_relay_batch() == 2
    assert outbox_relay_batch() == 0

    wire = servers.drain("notifications")
    notification_tasks = set(Notification.objects.filter(order_id=order_id).values_list("task_id", flat=True))
    assert {m.headers["id"] for m in wire} == notification_tasks
    assert len(wire) == 2
    assert pending.count() == 0


def test_a_broker_failing_mid_batch_keeps_what_was_published_and_the_error(monkeypatch):
    task_ids = [enqueue(SEND, kwargs={"notification_id": n}) for n in range(3)]
    real_send = publishing.send
    sent: list[str] = []

    def send_twice_then_fail(message, producer):
        if len(sent) == 2:
            raise ConnectionResetError("broker gone")
        real_send(message, producer)
        sent.append(message.task_id)

    monkeypatch.setattr("messaging.relay.send", send_twice_then_fail)
    with pytest.raises(Exception, match="published 2, then: broker gone"):
        outbox_relay_batch()

    rows = {m.task_id: m for m in OutboxMessage.objects.all()}
    assert [rows[t].published_at is not None for t in task_ids] == [True, True, False]
    assert rows[task_ids[2]].attempts == 1
    assert rows[task_ids[2]].last_error == "ConnectionResetError: broker gone"
    monkeypatch.setattr("messaging.relay.send", real_send)
    assert outbox_relay_batch() == 1
    assert [m.headers["id"] for m in servers.drain("notifications")] == task_ids


def test_concurrent_relays_publish_each_message_once():
    for n in range(60):
        OutboxMessage.objects.create(
            task_name="notifications.tasks.send_notification",
            kwargs={"notification_id": n},
            task_id=f"relay-{n}",
        )

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
