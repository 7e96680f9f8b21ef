"""Entry points for notification delivery: ids in, a service call, retries declared here.

Task names follow seed 003 (`send_order_confirmation`, `send_seller_notification`);
their queue and priority are set by the routes in pro_platform/celery.py.
"""

import smtplib
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from services.notifications import notification_mark_failed, notification_send

# Network trouble and SMTP errors are worth another try; anything else is a bug.
TRANSIENT_ERRORS = (OSError, smtplib.SMTPException)

RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
}


class NotificationTask(Task):
    """Records the final failure on the notification instead of letting it vanish."""

    def on_failure(self, exc: Exception, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        notification_id = kwargs.get("notification_id")
        if notification_id is not None:
            notification_mark_failed(notification_id=notification_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(base=NotificationTask, **RETRY_POLICY)
def send_order_confirmation(*, notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(base=NotificationTask, **RETRY_POLICY)
def send_seller_notification(*, notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(base=NotificationTask, **RETRY_POLICY)
def send_notification(*, notification_id: int) -> str:
    return notification_send(notification_id=notification_id)
