"""Delivering a notification: at most one success per row (locked while it goes out), transient
failures retried with exponential backoff and jitter, a final failure recorded and alerted."""

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.template import engines
from django.utils import timezone

from notifications import channels, ratelimit
from notifications.models import Channel, Notification, NotificationStatus
from services.notifications.alerts import alert_failure

logger = logging.getLogger(__name__)

SENDERS: dict[str, Callable[[str, channels.Message], None]] = {
    Channel.EMAIL: channels.send_email,
    Channel.TELEGRAM: channels.send_telegram,
}
MAX_ERROR_LENGTH = 2000
_jitter = random.SystemRandom()  # spreads retries; no secret depends on it

_text_templates = engines["text"]


def render(*, notification: Notification) -> channels.Message:
    """The message from the event's template: its first line is the subject."""
    template = _text_templates.get_template(f"notifications/{notification.event}/{notification.audience}.txt")
    subject, _, body = template.render(notification.payload).strip().partition("\n")
    subject, body = subject.strip(), body.strip()
    html = (
        engines["django"].get_template("notifications/email.html").render({"subject": subject, "body": body})
    )
    text = body if notification.channel == Channel.EMAIL else f"{subject}\n\n{body}"
    attachments = tuple(channels.Attachment(**a) for a in notification.payload.get("attachments", ()))
    return channels.Message(
        subject=subject,
        text=text,
        html=html,
        key=f"notification-{notification.task_id}",
        attachments=attachments,
    )


def _respect_rate_limits(notification: Notification) -> None:
    if notification.channel == Channel.TELEGRAM:
        ratelimit.wait_for_slot(
            streams=[
                ("telegram", 1 / settings.TELEGRAM_MAX_MESSAGES_PER_SECOND),
                (f"telegram:{notification.recipient}", settings.TELEGRAM_CHAT_INTERVAL_SECONDS),
            ],
            max_wait=settings.TELEGRAM_RATE_LIMIT_MAX_WAIT_SECONDS,
        )


def _error_text(exc: channels.DeliveryError) -> str:
    return str(exc)[:MAX_ERROR_LENGTH]  # channels word their errors for people


def notification_send(*, notification_id: int) -> str:
    """Deliver a pending notification once; return its status afterwards.

    The row stays locked while the message goes out, so a redelivered task or a
    second worker waits and then finds it already sent. (The one window for a second
    copy: a worker killed after the provider accepted the message and before the
    commit; the redelivered task then sends again.) Raises TransientDeliveryError
    (attempt recorded) for the caller to retry, and ratelimit.RateLimited when the
    channel's rate limit says to come back later (no attempt spent).
    """
    peek = Notification.objects.filter(pk=notification_id).first()
    if peek is None:
        logger.warning("notification %s does not exist; nothing to send", notification_id)
        return "missing"
    if peek.status != NotificationStatus.PENDING:
        return peek.status
    message = render(notification=peek)  # before the rate-limit slot, so the send follows the slot closely
    _respect_rate_limits(peek)

    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status != NotificationStatus.PENDING:
            return notification.status
        notification.attempts += 1
        notification.next_retry_at = None
        try:
            SENDERS[notification.channel](notification.recipient, message)
        except channels.TransientDeliveryError as exc:
            notification.last_error = _error_text(exc)
            notification.save(update_fields=["attempts", "last_error", "next_retry_at", "updated_at"])
            failure: channels.TransientDeliveryError | None = exc
        except channels.PermanentDeliveryError as exc:
            _mark_failed(notification, _error_text(exc))
            failure = None
        else:
            notification.status = NotificationStatus.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(
                update_fields=["status", "sent_at", "attempts", "last_error", "next_retry_at", "updated_at"]
            )
            return notification.status
    if failure is not None:
        raise failure
    alert_failure(notification_id=notification_id)
    return NotificationStatus.FAILED


def _mark_failed(notification: Notification, error: str) -> None:
    notification.status = NotificationStatus.FAILED
    notification.last_error = error
    notification.next_retry_at = None
    notification.save(update_fields=["status", "attempts", "last_error", "next_retry_at", "updated_at"])


def notification_retry_delay(*, notification_id: int, retry_after: float | None = None) -> float | None:
    """After a transient failure: seconds until the next attempt, or None once the retries are spent.

    Retries back off exponentially with "equal jitter" (between half the step and the
    step), never sooner than the provider's `retry_after`, so the retries span a known
    least time: 31 s with the defaults, an outage of the provider shorter than that loses
    nothing. (With full jitter, from zero to the step, the five retries could all fall
    within a few seconds: the chaos run saw notifications fail for good in a 15 s SMTP
    outage.) Giving up marks the notification failed and alerts.
    """
    notification = Notification.objects.get(pk=notification_id)
    if notification.attempts > settings.NOTIFICATION_MAX_RETRIES:
        notification_give_up(notification_id=notification_id, error=notification.last_error)
        return None
    step = min(
        settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** (notification.attempts - 1),
        settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
    )
    delay = max(_jitter.uniform(step / 2, step), retry_after or 0.0, 1.0)
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        next_retry_at=timezone.now() + timedelta(seconds=delay)
    )
    return delay


def notification_give_up(*, notification_id: int, error: str) -> None:
    """Mark a still-pending notification failed for good, and tell the administrators."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != NotificationStatus.PENDING:
            return
        _mark_failed(notification, (error or notification.last_error)[:MAX_ERROR_LENGTH])
    logger.error("notification %s failed for good: %s", notification_id, error)
    alert_failure(notification_id=notification_id)
