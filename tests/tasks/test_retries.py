"""Task retries go through the outbox: a short delay rides on the broker, a long one waits in PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from celery import Task
from celery.exceptions import Retry
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.relay import outbox_relay_batch
from messaging.routing import ROUTES
from messaging.worker import OutboxTask
from notifications.tasks import send_notification
from operations.tracing import bind_request_id
from orders.tasks import process_payment_callback
from pro_platform.celery import app
from testing import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queues")]


@contextmanager
def running_in_a_worker(task: Task, *, kwargs: dict, retries: int = 0, priority: int = 8) -> Iterator[None]:
    """The request a worker would give the task while it runs."""
    task.push_request(
        id="task-1",
        kwargs=kwargs,
        retries=retries,
        called_directly=False,
        delivery_info={"priority": priority, "routing_key": "notifications"},
    )
    try:
        yield
    finally:
        task.pop_request()


def eta_in(wire: servers.WireMessage) -> float:
    return (datetime.fromisoformat(wire.headers["eta"]) - timezone.now()).total_seconds()


def test_a_short_retry_is_published_at_once_with_its_eta_count_and_priority():
    with (
        running_in_a_worker(send_notification, kwargs={"notification_id": 5}, retries=1),
        pytest.raises(Retry),
    ):
        send_notification.retry(countdown=3, exc=RuntimeError("SMTP down"))

    servers.published()
    message = OutboxMessage.objects.get()
    assert (message.task_id, message.retries, message.priority) == ("task-1", 2, 8)
    assert message.kwargs == {"notification_id": 5}
    assert message.published_at is not None
    (wire,) = servers.drain("notifications")
    assert (wire.headers["id"], wire.headers["retries"], wire.priority) == ("task-1", 2, 8)
    assert 2 < eta_in(wire) <= 3


def test_a_retry_keeps_the_request_id_of_the_run_it_retries():
    bind_request_id("req-retried")  # as the worker binds it for the run
    try:
        with running_in_a_worker(send_notification, kwargs={"notification_id": 5}), pytest.raises(Retry):
            send_notification.retry(countdown=3)
    finally:
        bind_request_id("")
    assert OutboxMessage.objects.get().request_id == "req-retried"
    (wire,) = servers.drain("notifications")
    assert wire.headers["request_id"] == "req-retried"


def test_a_long_retry_waits_in_the_database_until_shortly_before_it_is_due():
    with running_in_a_worker(send_notification, kwargs={"notification_id": 5}), pytest.raises(Retry):
        send_notification.retry(countdown=300)

    message = OutboxMessage.objects.get()
    assert message.published_at is None
    assert message.eta is not None
    assert message.available_at == message.eta - timedelta(seconds=10)  # OUTBOX_MAX_BROKER_DELAY_SECONDS
    assert servers.queue_depth("notifications") == 0
    assert outbox_relay_batch() == 0
    assert outbox_relay_batch(now=message.available_at - timedelta(seconds=1)) == 0

    assert outbox_relay_batch(now=message.available_at) == 1
    (wire,) = servers.drain("notifications")
    assert datetime.fromisoformat(wire.headers["eta"]) == message.eta
    assert wire.headers["retries"] == 1


def test_when_the_retries_are_spent_the_error_is_raised_as_celery_does():
    with (
        running_in_a_worker(process_payment_callback, kwargs={"callback_id": 1}, retries=5),
        pytest.raises(OperationalError),
    ):
        process_payment_callback.retry(exc=OperationalError("database gone"), countdown=1)
    assert OutboxMessage.objects.count() == 0
    assert servers.queue_depth("payments") == 0


def test_a_retry_goes_straight_to_the_broker_when_the_database_is_down(monkeypatch):
    def database_down(*args, **kwargs):
        raise DatabaseError("could not connect")

    monkeypatch.setattr("messaging.outbox.enqueue", database_down)
    bind_request_id("req-retried")
    try:
        with running_in_a_worker(send_notification, kwargs={"notification_id": 5}), pytest.raises(Retry):
            send_notification.retry(countdown=2)
    finally:
        bind_request_id("")

    (wire,) = servers.drain("notifications")
    assert (wire.headers["id"], wire.headers["retries"]) == ("task-1", 1)
    assert wire.headers["request_id"] == "req-retried"  # Celery's own publish carries it too
    assert 1 < eta_in(wire) <= 2


def test_every_task_is_an_outbox_task_that_retries_a_lost_database_connection():
    app.loader.import_default_modules()
    for name in ROUTES:
        task = app.tasks[name]
        assert isinstance(task, OutboxTask), name
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), name


def test_a_retry_after_the_database_connection_died_goes_to_the_outbox_on_a_new_one():
    """Found by the chaos run: a worker's connection terminated before a task's first query.
    The retry was written on the dead connection ("connection already closed", an
    InterfaceError, which is no DatabaseError): the task failed for good and was dead-lettered."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    (terminated,) = servers.run_concurrently([lambda: _terminate(pid)])
    assert terminated is True
    with pytest.raises(OperationalError) as lost:  # the task's first query
        OutboxMessage.objects.count()

    with (
        running_in_a_worker(send_notification, kwargs={"notification_id": 5}),
        pytest.raises(Retry),
    ):
        send_notification.retry(countdown=3, exc=lost.value)

    message = OutboxMessage.objects.get()
    assert (message.task_id, message.retries, message.kwargs) == ("task-1", 1, {"notification_id": 5})


def _terminate(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        return bool(cursor.fetchone()[0])
