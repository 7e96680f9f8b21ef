"""The single door through which asynchronous work starts: a transactional outbox.

`enqueue` writes an OutboxMessage in the caller's transaction. After the commit
the message is published at once (with publisher confirms) by this process's
publisher thread and marked published: the fast path, which no request waits
for. If the broker is down, or the process dies between commit and publish, the
row stays unpublished and `manage.py outbox_relay` publishes it later, so nothing
the API acknowledged is lost. A message may then be published
twice (fast path and relay racing, or a redelivery): every task is idempotent.

A delay longer than OUTBOX_MAX_BROKER_DELAY_SECONDS is not handed to RabbitMQ as
an ETA (a consumer would hold the message unacknowledged for that long, up to
RabbitMQ's consumer_timeout): the row waits here and the relay publishes it
shortly before it is due.

The queue a task goes to is decided by the routing table (messaging/routing.py),
never here; a caller may only set the message priority.
"""

import atexit
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.publishing import connect, forget_connection, send
from operations.tracing import current_request_id
from pro_platform.celery import app

logger = logging.getLogger(__name__)

JsonKwargs = dict[str, Any]


def new_task_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class TaskCall:
    """One task to run: what `enqueue` records and publishes."""

    task_name: str
    kwargs: JsonKwargs
    task_id: str | None = None
    priority: int | None = None
    countdown: float | None = None
    retries: int = 0
    request_id: str | None = None  # None: the current request's or task's (operations/tracing.py)


def enqueue(
    task_name: str,
    *,
    kwargs: JsonKwargs,
    task_id: str | None = None,
    priority: int | None = None,
    countdown: float | None = None,
    retries: int = 0,
    request_id: str | None = None,
) -> str:
    """Record `task_name(**kwargs)` in the outbox and publish it once the transaction commits."""
    call = TaskCall(task_name, kwargs, task_id, priority, countdown, retries, request_id)
    (task_id,) = enqueue_many([call])
    return task_id


def enqueue_many(calls: list[TaskCall]) -> list[str]:
    """`enqueue` for several tasks at once: one INSERT, one publishing pass, one UPDATE."""
    now = timezone.now()
    messages = [_outbox_message(call, now) for call in calls]
    if settings.TASK_PUBLISHING != "outbox":  # references for measurements only (see settings)
        if settings.TASK_PUBLISHING == "on_commit":  # what `transaction.on_commit(task.delay)` does
            for m in messages:
                send = partial(app.send_task, m.task_name, kwargs=m.kwargs, task_id=m.task_id)
                transaction.on_commit(partial(send, priority=m.priority))
        return [m.task_id for m in messages]
    OutboxMessage.objects.bulk_create(messages)
    now_due = [m for m in messages if not _long_delay(m, now)]  # the rest wait for the relay
    if now_due:
        transaction.on_commit(partial(publisher.submit, now_due))
    return [m.task_id for m in messages]


def _max_hold() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_MAX_BROKER_DELAY_SECONDS)


def _long_delay(message: OutboxMessage, now: datetime) -> bool:
    return message.eta is not None and message.eta - now > _max_hold()


def _outbox_message(call: TaskCall, now: datetime) -> OutboxMessage:
    message = OutboxMessage(
        task_name=call.task_name,
        kwargs=call.kwargs,
        task_id=call.task_id or new_task_id(),
        priority=call.priority,
        retries=call.retries,
        request_id=current_request_id() if call.request_id is None else call.request_id,
        eta=now + timedelta(seconds=call.countdown) if call.countdown else None,
    )
    # A long delay is published by the relay shortly before it is due; anything else at
    # once after commit, or by the relay after the grace if that failed.
    if message.eta is not None and _long_delay(message, now):
        message.available_at = message.eta - _max_hold()
    else:
        message.available_at = now + timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    return message


class _BrokerDownPause:
    """After a failed publish, leave new messages to the relay for a few seconds.

    Requests made while RabbitMQ is down then spend no time on it at all.
    """

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def active(self) -> bool:
        return time.monotonic() < self._until

    def start(self) -> None:
        with self._lock:
            self._until = time.monotonic() + settings.OUTBOX_FAST_PATH_PAUSE_SECONDS


broker_down = _BrokerDownPause()


class _Publisher:
    """The fast path, off the request's back: one thread per process publishes committed messages.

    At commit a request hands its messages over and answers at once; the thread publishes
    them (with confirms) and marks them, taking everything handed over meanwhile in one
    pass, so under load one producer and one UPDATE serve many requests. What it has not
    published when the process ends, the relay publishes after OUTBOX_RELAY_GRACE_SECONDS.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pending: list[OutboxMessage] = []
        self._busy = False
        self._pid = 0

    def submit(self, messages: list[OutboxMessage]) -> None:
        with self._changed:
            if self._pid != os.getpid():  # first use in this process (a fork inherits no thread)
                self._pid, self._pending, self._busy = os.getpid(), [], False
                threading.Thread(target=self._run, name="outbox-publisher", daemon=True).start()
            self._pending += messages
            self._changed.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed over was published or left to the relay."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                batch, self._pending, self._busy = self._pending, [], True
            try:
                _publish_now(batch)
            except Exception:  # never let the thread die: the relay has the rows anyway
                logger.exception("outbox publisher failed on %d message(s)", len(batch))
            finally:
                _close_if_unusable_or_too_old()
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


def _close_if_unusable_or_too_old() -> None:
    """What Django does around each request, for the publisher thread's own connection.

    Only when needed: close_old_connections would also make the next query check the
    connection first (CONN_HEALTH_CHECKS), a round trip per batch.
    """
    too_old = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or too_old:
        connection.close_if_unusable_or_obsolete()


publisher = _Publisher()
atexit.register(publisher.flush, 2.0)  # a process that ends normally publishes what it committed


def _publish_now(messages: list[OutboxMessage]) -> None:
    # The rows are committed whatever happens here: what is not published is left to the
    # relay, and so is a message published but not marked (the relay publishes it again;
    # tasks are idempotent).
    if broker_down.active():
        return
    published: list[int] = []
    try:
        with app.producer_or_acquire() as producer:
            try:
                connect(producer)
                for message in messages:
                    send(message, producer)
                    published.append(message.pk)
            except Exception:
                forget_connection(producer)
                raise
    except Exception as exc:
        broker_down.start()
        logger.warning(
            "could not publish %s[%s] now (%s); the outbox relay will",
            messages[len(published)].task_name,
            messages[len(published)].task_id,
            exc,
        )
    if not published:
        return
    try:
        with connection.cursor() as cursor:  # SQL, not the ORM: this runs for every message
            cursor.execute(
                "UPDATE outbox_outboxmessage SET published_at = now()"
                " WHERE id = ANY(%s) AND published_at IS NULL",
                [published],
            )
    except DatabaseError as exc:
        logger.warning("published %d message(s) but could not mark them (%s)", len(published), exc)
        connection.close()  # a broken connection is not reused
