from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Audience, Notification
from orders.models import Order, PaymentCallback


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The notifications addressed to the user."""
    return Notification.objects.filter(user=user)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "notification" or "payment_callback"
    id: int
    at: datetime
    event: str
    state: str
    detail: str
    channel: str | None = None
    audience: str | None = None
    attempts: int | None = None
    next_retry_at: datetime | None = None
    done_at: datetime | None = None


def order_timeline(*, order: Order, viewer: User) -> list[TimelineEntry]:
    """The order's asynchronous side effects, oldest first: payment callbacks and notifications.
    Staff see every notification; the customer sees those addressed to them."""
    notifications = Notification.objects.filter(order=order)
    if not viewer.is_staff:
        notifications = notifications.filter(audience=Audience.CUSTOMER)
    entries = [
        TimelineEntry(
            kind="notification",
            id=n.pk,
            at=n.created_at,
            event=n.event,
            state=n.status,
            detail=n.last_error,
            channel=n.channel,
            audience=n.audience,
            attempts=n.attempts,
            next_retry_at=n.next_retry_at,
            done_at=n.sent_at,
        )
        for n in notifications
    ]
    entries += [
        TimelineEntry(
            kind="payment_callback",
            id=c.pk,
            at=c.received_at,
            event=f"payment_{c.status}",
            state=c.state,
            detail=c.result,
            done_at=c.processed_at,
        )
        for c in PaymentCallback.objects.filter(order=order)
    ]
    return sorted(entries, key=lambda e: (e.at, e.kind, e.id))
