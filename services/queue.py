"""The single door through which services start asynchronous work: a transactional outbox.

`enqueue` writes an OutboxMessage in the caller's transaction. After the commit
the message is published at once (with publisher confirms) and marked published:
the fast path. If the broker is down, or the process dies between commit and
publish, the row stays unpublished and `manage.py outbox_relay` publishes it
later, so nothing the API acknowledged is lost. A message may then be published
twice (fast path and relay racing): every task is idempotent and keyed by its
task id. The queue a task goes to is decided by the router in
pro_platform/celery.py, never here; a caller may only set the message priority.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxMessage
from pro_platform.celery import app

logger = logging.getLogger(__name__)

JsonKwargs = dict[str, str | int | float | bool | None]


def new_task_id() -> str:
    return str(uuid.uuid4())


def enqueue(
    task_name: str,
    *,
    kwargs: JsonKwargs,
    task_id: str | None = None,
    priority: int | None = None,
    countdown: float | None = None,
) -> str:
    """Record `task_name(**kwargs)` in the outbox and publish it once the transaction commits."""
    message = OutboxMessage.objects.create(
        task_name=task_name,
        kwargs=kwargs,
        task_id=task_id or new_task_id(),
        priority=priority,
        countdown=countdown,
    )
    transaction.on_commit(lambda: _publish_after_commit(message))
    return message.task_id


def _send(message: OutboxMessage) -> None:
    options: dict[str, Any] = {"task_id": message.task_id}
    if message.priority is not None:
        options["priority"] = message.priority
    if message.countdown is not None:
        options["countdown"] = message.countdown
    app.send_task(message.task_name, kwargs=message.kwargs, **options)


def _publish_after_commit(message: OutboxMessage) -> None:
    # The rows are committed whatever happens here: a failed publish is left to the relay
    # and the request that caused it still succeeds.
    try:
        _send(message)
    except Exception as exc:
        logger.warning(
            "could not publish %s[%s] now (%s); the outbox relay will",
            message.task_name,
            message.task_id,
            exc,
        )
        return
    OutboxMessage.objects.filter(pk=message.pk, published_at=None).update(published_at=timezone.now())


class BrokerUnavailable(Exception):
    pass


def outbox_relay_batch(*, limit: int = 100) -> int:
    """Publish up to `limit` messages the fast path left behind; return how many were published.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays share the work;
    only rows older than OUTBOX_RELAY_GRACE_SECONDS are taken, which leaves the fast
    path its time. Raises BrokerUnavailable (after keeping what was published) for
    the caller to back off.
    """
    grace = timezone.now() - timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    published = 0
    failure: Exception | None = None
    with transaction.atomic():
        batch = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at=None, created_at__lt=grace)
            .order_by("id")[:limit]
        )
        for message in batch:
            message.attempts += 1
            try:
                _send(message)
            except Exception as exc:
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.save(update_fields=["attempts", "last_error"])
                failure = exc
                break
            message.published_at = timezone.now()
            message.save(update_fields=["attempts", "published_at"])
            published += 1
    if failure is not None:
        raise BrokerUnavailable(f"published {published}, then: {failure}") from failure
    return published


def outbox_prune(*, older_than: timedelta) -> int:
    """Delete messages published longer ago than `older_than`; return how many."""
    deleted, _ = OutboxMessage.objects.filter(published_at__lt=timezone.now() - older_than).delete()
    return deleted
