"""Telling the administrators about failed notifications: one alert each, or one summary at
the end of the window when they come in a burst (decided under an advisory lock)."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.outbox import enqueue
from messaging.routing import Tasks
from notifications.models import Audience, Event, Notification, NotificationStatus
from services.notifications.fanout import staff_alert

ALERT_LOCK = 0x70726F5F616C7274  # pg advisory lock id: one alert decision at a time


def _failure_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "event": notification.get_event_display(),
        "audience": notification.audience,
        "channel": notification.channel,
        "recipient": notification.recipient,
        "attempts": notification.attempts,
        "error": notification.last_error,
        "order_id": notification.order_id,
    }


def _take_alert_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALERT_LOCK])


def alert_failure(*, notification_id: int) -> None:
    """One alert per failed notification, or a summary later when failures come in a burst."""
    with transaction.atomic():
        _take_alert_lock()
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.alerted_at is not None or notification.audience == Audience.ADMINS:
            return  # already told, or an alert itself failed: never alert about alerts
        now = timezone.now()
        window = timedelta(seconds=settings.NOTIFICATION_ALERT_WINDOW_SECONDS)
        recent_alerts = Notification.objects.filter(alerted_at__gte=now - window).count()
        if recent_alerts < settings.NOTIFICATION_ALERT_BURST:
            staff_alert(event=Event.DELIVERY_FAILED, payload={"failed": _failure_payload(notification)})
            notification.alerted_at = now
            notification.save(update_fields=["alerted_at", "updated_at"])
            return
        summary_due = _unalerted_failures().exclude(pk=notification.pk).exists()
        if not summary_due:  # the first failure of a burst schedules the one summary
            enqueue(
                Tasks.SEND_FAILURE_SUMMARY,
                kwargs={},
                countdown=settings.NOTIFICATION_ALERT_WINDOW_SECONDS,
            )


def _unalerted_failures() -> QuerySet[Notification]:
    return Notification.objects.filter(status=NotificationStatus.FAILED, alerted_at=None).exclude(
        audience=Audience.ADMINS
    )


def failure_summary_send() -> int:
    """Alert once about every failed notification nobody was told of yet; return how many."""
    with transaction.atomic():
        _take_alert_lock()
        failures = list(_unalerted_failures().select_for_update().order_by("id"))
        if not failures:
            return 0
        staff_alert(
            event=Event.DELIVERY_FAILURES,
            payload={"count": len(failures), "failures": [_failure_payload(n) for n in failures[:50]]},
        )
        Notification.objects.filter(pk__in=[n.pk for n in failures]).update(alerted_at=timezone.now())
    return len(failures)
