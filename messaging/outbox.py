"""The single door through which asynchronous work starts: a transactional outbox.

`enqueue` writes an OutboxMessage in the caller's transaction, and that is all a
request does: it never talks to RabbitMQ. The INSERT fires a statement trigger that
sends a PostgreSQL notification on the OUTBOX_CHANNEL, which PostgreSQL delivers
when (and only if) the transaction commits; the outbox relay (`manage.py
outbox_relay`, messaging/relay.py) listens on that channel, wakes at once, publishes
the committed messages with publisher confirms and marks them published. If the
broker is down, or a relay dies, the rows stay unpublished and a relay publishes
them later, so nothing the API acknowledged is lost. A message may be published
twice (a relay killed between publishing and marking, or a redelivery): every task
is idempotent.

A delay longer than OUTBOX_MAX_BROKER_DELAY_SECONDS is not handed to RabbitMQ as
an ETA (a consumer would hold the message unacknowledged for that long, up to
RabbitMQ's consumer_timeout): the row waits here and the relay publishes it
shortly before it is due.

The queue a task goes to is decided by the routing table (messaging/routing.py),
never here; a caller may only set the message priority.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from messaging.models import OutboxMessage
from operations.tracing import current_request_id
from pro_platform.celery import app

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
    """Record `task_name(**kwargs)` in the outbox; a relay publishes it once the transaction commits."""
    call = TaskCall(task_name, kwargs, task_id, priority, countdown, retries, request_id)
    (task_id,) = enqueue_many([call])
    return task_id


def enqueue_many(calls: list[TaskCall]) -> list[str]:
    """`enqueue` for several tasks at once: one INSERT (its statement trigger notifies the relays)."""
    now = timezone.now()
    messages = [_outbox_message(call, now) for call in calls]
    if settings.TASK_PUBLISHING != "outbox":  # references for measurements only (see settings)
        if settings.TASK_PUBLISHING == "on_commit":  # what `transaction.on_commit(task.delay)` does
            for m in messages:
                send = partial(app.send_task, m.task_name, kwargs=m.kwargs, task_id=m.task_id)
                transaction.on_commit(partial(send, priority=m.priority))
        return [m.task_id for m in messages]
    if messages:
        _insert(messages)
    return [m.task_id for m in messages]


# bulk_create's INSERT, without its per-value preparation: a quarter of the CPU (0.1 ms
# against 0.4 ms for an order's four messages), on the path of every request that enqueues.
_INSERT = f"""
    INSERT INTO {OutboxMessage._meta.db_table} (
        task_name, kwargs, task_id, priority, retries, eta, available_at, request_id,
        created_at, attempts, last_error
    )
    SELECT *, %s, 0, '' FROM unnest(
        %s::varchar[], %s::jsonb[], %s::varchar[], %s::smallint[], %s::smallint[],
        %s::timestamptz[], %s::timestamptz[], %s::varchar[]
    )
"""


def _insert(messages: list[OutboxMessage]) -> None:
    columns: list[list[Any]] = [
        [m.task_name for m in messages],
        [json.dumps(m.kwargs) for m in messages],
        [m.task_id for m in messages],
        [m.priority for m in messages],
        [m.retries for m in messages],
        [m.eta for m in messages],
        [m.available_at for m in messages],
        [m.request_id for m in messages],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [messages[0].created_at, *columns])


def _max_hold() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_MAX_BROKER_DELAY_SECONDS)


def _outbox_message(call: TaskCall, now: datetime) -> OutboxMessage:
    eta = now + timedelta(seconds=call.countdown) if call.countdown else None
    return OutboxMessage(
        task_name=call.task_name,
        kwargs=call.kwargs,
        task_id=call.task_id or new_task_id(),
        priority=call.priority,
        retries=call.retries,
        request_id=current_request_id() if call.request_id is None else call.request_id,
        eta=eta,
        # Due at once; a long delay shortly before its ETA.
        available_at=eta - _max_hold() if eta is not None and eta - now > _max_hold() else now,
        created_at=now,
    )
