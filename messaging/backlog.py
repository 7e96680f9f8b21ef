"""The outbox's backlog: what is committed but not yet handed to RabbitMQ. Read by readiness,
the metrics and the staff dashboard alike."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from messaging.models import OutboxMessage


@dataclass(frozen=True)
class Backlog:
    due: int  # due for publishing (at once, or a delay ran out) and not yet published
    oldest_due_seconds: float  # how long the oldest of them has been due; 0 when there are none
    delayed: int  # waiting in the outbox for a later time (long retry delays)


def outbox_backlog(*, now: datetime | None = None) -> Backlog:
    now = now or timezone.now()
    unpublished = OutboxMessage.objects.filter(published_at=None)
    due = unpublished.filter(available_at__lte=now).aggregate(count=Count("id"), oldest=Min("available_at"))
    return Backlog(
        due=due["count"],
        oldest_due_seconds=(now - due["oldest"]).total_seconds() if due["oldest"] else 0.0,
        delayed=unpublished.filter(available_at__gt=now).count(),
    )
