"""Notifications: decided with the business change, delivered later by a worker.

EVENT_ROUTES is the one table that says, for every event, who hears of it, over
which channels and how urgently. Delivery is at most one success per notification
(the row is locked while it goes out), transient failures are retried with
exponential backoff and jitter, and a final failure is recorded and raised with
the administrators, with a summary instead of a storm when many fail at once.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.template import engines
from django.utils import timezone

from accounts.models import CustomerProfile, User
from messaging.models import OutboxMessage
from messaging.outbox import TaskCall, enqueue, enqueue_many, new_task_id
from messaging.routing import Priority
from notifications import channels, ratelimit
from notifications.models import Audience, Channel, Event, Notification, NotificationStatus
from orders.models import Order, OrderItem
from services.exceptions import Conflict

logger = logging.getLogger(__name__)

EMAIL_AND_TELEGRAM = (Channel.EMAIL, Channel.TELEGRAM)
TASKS = "notifications.tasks."


@dataclass(frozen=True)
class Route:
    audience: str
    channels: tuple[str, ...]
    priority: int
    task: str = TASKS + "send_notification"


EVENT_ROUTES: dict[str, tuple[Route, ...]] = {
    Event.ORDER_CREATED: (
        Route(
            Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL, TASKS + "send_order_confirmation"
        ),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM, Priority.SELLER, TASKS + "send_seller_notification"),
        Route(
            Audience.MANAGERS, (Channel.TELEGRAM,), Priority.SELLER, TASKS + "send_order_notification_task"
        ),
    ),
    Event.ORDER_PAID: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM, Priority.SELLER, TASKS + "send_seller_notification"),
    ),
    Event.ORDER_PAYMENT_FAILED: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM, Priority.SELLER, TASKS + "send_seller_notification"),
    ),
    Event.ORDER_CANCELLED: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM, Priority.SELLER, TASKS + "send_seller_notification"),
    ),
    Event.ORDER_SHIPPED: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.INFORMATIONAL),),
    Event.ORDER_DELIVERED: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.INFORMATIONAL),),
    Event.DELIVERY_FAILED: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),),
    Event.DELIVERY_FAILURES: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),),
    Event.PAYMENT_FLAGGED: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM, Priority.TRANSACTIONAL),),
    Event.REVIEW_REMINDER: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM, Priority.INFORMATIONAL),),
    Event.DAILY_REPORT: (Route(Audience.STAFF, (Channel.EMAIL,), Priority.INFORMATIONAL),),
}

SENDERS: dict[str, Callable[[str, channels.Message], None]] = {
    Channel.EMAIL: channels.send_email,
    Channel.TELEGRAM: channels.send_telegram,
}
MAX_ERROR_LENGTH = 2000
ALERT_LOCK = 0x70726F5F616C7274  # pg advisory lock id: one alert decision at a time


class NotificationNotFailed(Conflict):
    code = "notification_not_failed"
    message = "Only a failed notification can be sent again."


# --- Deciding who hears of what -------------------------------------------------------------


def notifications_create(notifications: list[Notification]) -> list[Notification]:
    """Record notifications (priority and task id from the event table) in one INSERT; each
    is published once the caller's transaction commits."""
    for notification in notifications:
        notification.priority = _route(notification.event, notification.audience).priority
        notification.task_id = new_task_id()
    Notification.objects.bulk_create(notifications)
    _publish(notifications)
    return notifications


def _publish(notifications: list[Notification]) -> None:
    enqueue_many(
        [
            TaskCall(
                _route(n.event, n.audience).task,
                kwargs={"notification_id": n.pk},
                task_id=n.task_id,
                priority=n.priority,
            )
            for n in notifications
        ]
    )


def _telegram_enabled() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def _addresses(channel: str, *, email: str, chat_id: str) -> list[str]:
    if channel == Channel.EMAIL:
        return [email] if email else []
    return [chat_id] if chat_id and _telegram_enabled() else []


def _order_payload(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": order.get_status_display(),
        "total": str(order.total),
        "currency": order.currency,
        "payment_reference": order.payment.reference,
        "customer_email": order.customer.email,
    }


def _item_payload(item: OrderItem) -> dict[str, Any]:
    return {
        "name": item.product.name,
        "sku": item.product.sku,
        "quantity": item.quantity,
        "line_total": str(item.line_total),
    }


def order_notify(*, order: Order, event: str, items: list[OrderItem] | None = None) -> list[Notification]:
    """Create every notification `event` calls for on `order`, as EVENT_ROUTES says.

    `items`, with their products and sellers, spare a query when the caller has them.
    """
    if items is None:
        items = list(order.items.select_related("product__seller").order_by("id"))
    order_data = _order_payload(order)
    customer = order.customer
    customer_chat = (
        CustomerProfile.objects.filter(user_id=customer.pk).values_list("telegram_chat_id", flat=True).first()
    )
    wanted: list[Notification] = []

    def add(route: Route, *, email: str, chat_id: str, payload: dict[str, Any], user_id: int | None) -> None:
        for channel in route.channels:
            for recipient in _addresses(channel, email=email, chat_id=chat_id):
                wanted.append(
                    Notification(
                        event=event,
                        audience=route.audience,
                        channel=channel,
                        recipient=recipient,
                        payload=payload,
                        order=order,
                        user_id=user_id,
                    )
                )

    for route in EVENT_ROUTES[event]:
        if route.audience == Audience.CUSTOMER:
            add(
                route,
                email=customer.email,
                chat_id=customer_chat or "",
                payload={"order": order_data, "items": [_item_payload(i) for i in items]},
                user_id=customer.pk,
            )
        elif route.audience == Audience.SELLER:
            sellers = {item.product.seller_id: item.product.seller for item in items}
            for seller in sorted(sellers.values(), key=lambda s: s.pk):
                seller_items = [i for i in items if i.product.seller_id == seller.pk]
                add(
                    route,
                    email=seller.email,
                    chat_id=seller.telegram_chat_id,
                    payload={
                        "order": order_data,
                        "seller": {"id": seller.pk, "name": seller.name},
                        "items": [_item_payload(i) for i in seller_items],
                    },
                    user_id=None,
                )
        elif route.audience == Audience.MANAGERS:
            add(
                route,
                email="",
                chat_id=settings.TELEGRAM_MANAGERS_CHAT_ID,
                payload={"order": order_data, "items": [_item_payload(i) for i in items]},
                user_id=None,
            )
    return notifications_create(wanted)


# --- Delivering --------------------------------------------------------------------------------

_text_templates = engines["text"]


def render(notification: Notification) -> channels.Message:
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
    message = render(peek)  # before the rate-limit slot, so the send follows the slot closely
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
    _alert_failure(notification_id)
    return NotificationStatus.FAILED


def _mark_failed(notification: Notification, error: str) -> None:
    notification.status = NotificationStatus.FAILED
    notification.last_error = error
    notification.next_retry_at = None
    notification.save(update_fields=["status", "attempts", "last_error", "next_retry_at", "updated_at"])


def notification_retry_delay(*, notification_id: int, retry_after: float | None = None) -> float | None:
    """After a transient failure: seconds until the next attempt, or None once the retries are spent.

    Retries back off exponentially with full jitter, never sooner than the
    provider's `retry_after`. Giving up marks the notification failed and alerts.
    """
    notification = Notification.objects.get(pk=notification_id)
    if notification.attempts > settings.NOTIFICATION_MAX_RETRIES:
        notification_give_up(notification_id=notification_id, error=notification.last_error)
        return None
    backoff = get_exponential_backoff_interval(
        factor=settings.NOTIFICATION_RETRY_BACKOFF_SECONDS,
        retries=notification.attempts - 1,
        maximum=settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
        full_jitter=True,
    )
    delay = max(float(backoff), retry_after or 0.0, 1.0)
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
    _alert_failure(notification_id)


def notifications_republish_stuck(*, older_than: timedelta) -> int:
    """Publish again every notification left pending with nothing on its way; return how many.

    The safety net behind the outbox: a notification is stuck when it has been pending
    longer than `older_than`, has no retry due later, and no unpublished outbox row
    (that one the relay will publish). Publishing again is harmless: the task sends a
    notification only while it is pending.
    """
    cutoff = timezone.now() - older_than
    waiting_in_outbox = OutboxMessage.objects.filter(published_at=None).values("task_id")
    stuck = (
        Notification.objects.filter(status=NotificationStatus.PENDING, updated_at__lt=cutoff)
        .filter(Q(next_retry_at=None) | Q(next_retry_at__lt=cutoff))
        .exclude(task_id__in=waiting_in_outbox)
        .order_by("id")
    )
    count = 0
    for notification in stuck.iterator():
        with transaction.atomic():
            _publish([notification])
            # Touched, so that the next sweep gives this message its time before publishing again.
            Notification.objects.filter(pk=notification.pk).update(updated_at=timezone.now())
        count += 1
    if count:
        logger.warning("re-published %d notification(s) stuck in pending", count)
    return count


def _route(event: str, audience: str) -> Route:
    return next(r for r in EVENT_ROUTES[event] if r.audience == audience)


def notification_resend(*, notification_id: int) -> Notification:
    """Give a failed notification a fresh set of attempts."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status != NotificationStatus.FAILED:
            raise NotificationNotFailed(field="status")
        notification.status = NotificationStatus.PENDING
        notification.attempts = 0
        notification.next_retry_at = None
        notification.alerted_at = None
        notification.task_id = new_task_id()
        notification.save()
        _publish([notification])
    return notification


# --- Alerting ----------------------------------------------------------------------------------


def staff_alert(*, event: str, payload: dict[str, Any]) -> list[Notification]:
    """Tell the administrators (DJANGO_ADMINS by e-mail, the managers' Telegram chat)."""
    (route,) = EVENT_ROUTES[event]
    emails = [address for _, address in settings.ADMINS]
    recipients = [(Channel.EMAIL, address) for address in emails]
    recipients += [
        (Channel.TELEGRAM, chat)
        for chat in _addresses(Channel.TELEGRAM, email="", chat_id=settings.TELEGRAM_MANAGERS_CHAT_ID)
    ]
    if not recipients:
        logger.error("no ADMINS and no managers' Telegram chat to alert: %s %s", event, payload)
    return _to_each(event, route.audience, recipients, payload)


def _to_each(
    event: str, audience: str, recipients: Sequence[tuple[str, str]], payload: dict
) -> list[Notification]:
    return notifications_create(
        [
            Notification(
                event=event, audience=audience, channel=channel, recipient=recipient, payload=payload
            )
            for channel, recipient in recipients
        ]
    )


def staff_email(*, event: str, payload: dict[str, Any]) -> list[Notification]:
    """E-mail every active staff member (reports); `payload["attachments"]` are attached."""
    (route,) = EVENT_ROUTES[event]
    addresses = (
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )
    return _to_each(event, route.audience, [(Channel.EMAIL, address) for address in addresses], payload)


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


def _alert_failure(notification_id: int) -> None:
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
                TASKS + "send_failure_summary",
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
