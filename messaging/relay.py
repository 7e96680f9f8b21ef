"""The outbox relay's work (`manage.py outbox_relay`): publish what the fast path left behind
(broker down, process died) or what is due after a long delay, and forget what was published."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.publishing import connect, forget_connection, send
from pro_platform.celery import app


class BrokerUnavailable(Exception):
    pass


def outbox_relay_batch(*, limit: int = 100, now: datetime | None = None) -> int:
    """Publish up to `limit` due messages the fast path left behind; return how many were published.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays share the work.
    A row is due from its `available_at`: OUTBOX_RELAY_GRACE_SECONDS after it was
    written (the fast path's time), or shortly before its ETA for a long delay.
    Raises BrokerUnavailable (after keeping what was published) for the caller to back off.
    """
    now = now or timezone.now()
    published = 0
    failure: Exception | None = None
    with transaction.atomic():
        batch = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at=None, available_at__lte=now)
            .order_by("available_at", "id")[:limit]
        )
        with app.producer_or_acquire() as producer:
            for message in batch:
                message.attempts += 1
                try:
                    connect(producer)
                    send(message, producer)
                except Exception as exc:
                    forget_connection(producer)
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
