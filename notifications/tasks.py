"""Entry points for notification delivery: an id in, a service call, the retry decision out.

Task names follow the seeds (`send_order_confirmation`, `send_seller_notification`,
`send_order_notification_task`); their queue is set by the routing table in
messaging/routing.py. The retry budget (NOTIFICATION_MAX_RETRIES, 5) is counted
on the notification's own attempts, so waiting for a rate-limit slot spends none.
"""

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings

from messaging.routing import Tasks
from notifications.channels import TransientDeliveryError
from notifications.ratelimit import RateLimited
from services.notifications.alerts import failure_summary_send
from services.notifications.delivery import notification_retry_delay, notification_send
from services.notifications.fanout import notifications_republish_stuck


def _deliver(task: Task, notification_id: int) -> str:
    try:
        return notification_send(notification_id=notification_id)
    except RateLimited as exc:
        raise task.retry(countdown=exc.retry_in, exc=exc) from exc
    except TransientDeliveryError as exc:
        delay = notification_retry_delay(notification_id=notification_id, retry_after=exc.retry_after)
        if delay is None:
            return "failed"
        raise task.retry(countdown=delay, exc=exc) from exc


def _delivery_task(name: str) -> Task:
    """One body under each of the seeds' task names (they differ only in their routes)."""

    def deliver(self: Task, *, notification_id: int) -> str:
        return _deliver(self, notification_id)

    return shared_task(bind=True, max_retries=None, name=name)(deliver)


send_order_confirmation = _delivery_task(Tasks.SEND_ORDER_CONFIRMATION)
send_seller_notification = _delivery_task(Tasks.SEND_SELLER_NOTIFICATION)
send_order_notification_task = _delivery_task(Tasks.SEND_ORDER_NOTIFICATION)  # seed 002: the managers' alert
send_notification = _delivery_task(Tasks.SEND_NOTIFICATION)


@shared_task
def send_failure_summary() -> int:
    return failure_summary_send()


@shared_task
def send_pending_emails() -> int:
    """Periodic (seed 003): publish again notifications stuck in pending; the outbox's safety net."""
    return notifications_republish_stuck(
        older_than=timedelta(minutes=settings.NOTIFICATION_STUCK_AFTER_MINUTES)
    )
