"""Deciding who hears of what: the notification rows a business change calls for, written in
its transaction and published after the commit; resending, and the stuck-message sweep."""

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import CustomerProfile, User
from messaging.models import OutboxMessage
from messaging.outbox import TaskCall, enqueue_many, new_task_id
from notifications.models import Audience, Channel, Notification, NotificationStatus
from orders.models import Order, OrderItem
from services.exceptions import Conflict
from services.notifications.routes import EVENT_ROUTES, Route, addresses, task_and_priority

logger = logging.getLogger(__name__)


class NotificationNotFailed(Conflict):
    code = "notification_not_failed"
    message = "Only a failed notification can be sent again."


def notifications_create(*, notifications: list[Notification]) -> list[Notification]:
    """Record notifications (priority and task id from the event table) in one INSERT; each
    is published once the caller's transaction commits."""
    for notification in notifications:
        _, notification.priority = task_and_priority(event=notification.event, audience=notification.audience)
        notification.task_id = new_task_id()
    Notification.objects.bulk_create(notifications)
    _publish(notifications)
    return notifications


def _publish(notifications: list[Notification]) -> None:
    enqueue_many(
        [
            TaskCall(
                task_and_priority(event=n.event, audience=n.audience)[0],
                kwargs={"notification_id": n.pk},
                task_id=n.task_id,
                priority=n.priority,
            )
            for n in notifications
        ]
    )


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


def _telegram_chat_of(customer: User) -> str:
    """Read with the user when authentication loaded its profile (accounts.auth), else here."""
    try:
        return customer.customer_profile.telegram_chat_id
    except CustomerProfile.DoesNotExist:
        return ""


def order_notify(*, order: Order, event: str, items: list[OrderItem] | None = None) -> list[Notification]:
    """Create every notification `event` calls for on `order`, as EVENT_ROUTES says.

    `items`, with their products and sellers, spare a query when the caller has them.
    """
    if items is None:
        items = list(order.items.select_related("product__seller").order_by("id"))
    order_data = _order_payload(order)
    customer = order.customer
    customer_chat = _telegram_chat_of(customer)
    wanted: list[Notification] = []

    def add(route: Route, *, email: str, chat_id: str, payload: dict[str, Any], user_id: int | None) -> None:
        for channel in route.channels:
            for recipient in addresses(channel, email=email, chat_id=chat_id):
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
                chat_id=customer_chat,
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
    return notifications_create(notifications=wanted)


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


def staff_alert(*, event: str, payload: dict[str, Any]) -> list[Notification]:
    """Tell the administrators (DJANGO_ADMINS by e-mail, the managers' Telegram chat)."""
    (route,) = EVENT_ROUTES[event]
    emails = [address for _, address in settings.ADMINS]
    recipients = [(Channel.EMAIL, address) for address in emails]
    recipients += [
        (Channel.TELEGRAM, chat)
        for chat in addresses(Channel.TELEGRAM, email="", chat_id=settings.TELEGRAM_MANAGERS_CHAT_ID)
    ]
    if not recipients:
        logger.error("no ADMINS and no managers' Telegram chat to alert: %s %s", event, payload)
    return _to_each(event, route.audience, recipients, payload)


def _to_each(
    event: str, audience: str, recipients: Sequence[tuple[str, str]], payload: dict
) -> list[Notification]:
    return notifications_create(
        notifications=[
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
