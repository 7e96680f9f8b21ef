"""Notifications: recorded with the business change, delivered later by a worker."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Channel, Event, Notification, NotificationStatus
from orders.models import Order, OrderItem, Seller
from services.queue import enqueue, new_task_id

logger = logging.getLogger(__name__)

# Which task delivers each event (routing and priority follow from the task name).
EVENT_TASKS: dict[str, str] = {
    Event.ORDER_CONFIRMATION: "notifications.tasks.send_order_confirmation",
    Event.SELLER_NEW_ORDER: "notifications.tasks.send_seller_notification",
    Event.ORDER_CANCELLED: "notifications.tasks.send_notification",
}

MAX_ERROR_LENGTH = 2000


def notification_create(
    *,
    event: str,
    recipient: str,
    payload: dict[str, Any],
    order: Order | None = None,
    user_id: int | None = None,
    channel: str = Channel.EMAIL,
) -> Notification:
    """Record a notification and have it delivered once the caller's transaction commits."""
    task_id = new_task_id()
    notification = Notification.objects.create(
        event=event,
        channel=channel,
        recipient=recipient,
        payload=payload,
        order=order,
        user_id=user_id,
        task_id=task_id,
    )
    enqueue(EVENT_TASKS[event], kwargs={"notification_id": notification.pk}, task_id=task_id)
    return notification


def _order_payload(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "total": str(order.total),
        "currency": order.currency,
        "payment_reference": order.payment.reference,
    }


def _item_payload(item: OrderItem) -> dict[str, Any]:
    return {
        "name": item.product.name,
        "sku": item.product.sku,
        "quantity": item.quantity,
        "line_total": str(item.line_total),
    }


def order_created_notify(*, order: Order, items: Iterable[OrderItem]) -> list[Notification]:
    """The customer's confirmation and one notice per seller whose products were ordered."""
    items = list(items)
    order_data = _order_payload(order)
    created = [
        notification_create(
            event=Event.ORDER_CONFIRMATION,
            recipient=order.customer.email,
            user_id=order.customer_id,
            order=order,
            payload={"order": order_data, "items": [_item_payload(i) for i in items]},
        )
    ]
    by_seller: dict[Seller, list[OrderItem]] = defaultdict(list)
    for item in items:
        by_seller[item.product.seller].append(item)
    for seller, seller_items in sorted(by_seller.items(), key=lambda pair: pair[0].pk):
        created.append(
            notification_create(
                event=Event.SELLER_NEW_ORDER,
                recipient=seller.email,
                order=order,
                payload={
                    "order": order_data,
                    "seller": {"id": seller.pk, "name": seller.name},
                    "items": [_item_payload(i) for i in seller_items],
                },
            )
        )
    return created


def order_cancelled_notify(*, order: Order) -> Notification:
    return notification_create(
        event=Event.ORDER_CANCELLED,
        recipient=order.customer.email,
        user_id=order.customer_id,
        order=order,
        payload={"order": _order_payload(order)},
    )


def _deliver(notification: Notification) -> None:
    template = f"notifications/email/{notification.event}"
    subject = render_to_string(f"{template}_subject.txt", notification.payload).strip()
    body = render_to_string(f"{template}_body.txt", notification.payload)
    send_mail(subject, body, None, [notification.recipient], fail_silently=False)


def notification_send(*, notification_id: int) -> str:
    """Deliver a pending notification once; return its status afterwards.

    The row stays locked while the message goes out, so a redelivered task or a
    second worker waits and then finds it already sent. A failed attempt is
    recorded (attempts, last error) and the error re-raised for the task to retry.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None:
            logger.warning("notification %s does not exist; nothing to send", notification_id)
            return "missing"
        if notification.status != NotificationStatus.PENDING:
            return notification.status
        notification.attempts += 1
        try:
            _deliver(notification)
        except Exception as exc:
            notification.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
            notification.save(update_fields=["attempts", "last_error", "updated_at"])
            failure = exc
        else:
            notification.status = NotificationStatus.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(update_fields=["status", "sent_at", "attempts", "last_error", "updated_at"])
            return notification.status
    raise failure


def notification_mark_failed(*, notification_id: int, error: str) -> None:
    """Give up on a notification after its last retry; the reason stays on the row."""
    updated = Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.FAILED, last_error=error[:MAX_ERROR_LENGTH], updated_at=timezone.now()
    )
    if updated:
        logger.error("notification %s failed for good: %s", notification_id, error)
