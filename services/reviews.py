"""Reviews of delivered products, and the reminder that asks for them."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from notifications.models import Event
from orders.models import Order, OrderStatus, Review
from services.exceptions import Conflict, InvalidRequest
from services.notifications.fanout import order_notify
from services.orders import order_lock


class OrderNotDelivered(Conflict):
    code = "order_not_delivered"
    message = "Products can be reviewed once the order is delivered."


class ProductNotInOrder(InvalidRequest):
    code = "product_not_in_order"
    message = "This product is not part of the order."


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = "You have reviewed this product already."


def review_create(*, customer: User, order_id: int, product_id: int, rating: int, text: str = "") -> Review:
    """Rate a product of one's own delivered order; once per product and customer."""
    try:
        with transaction.atomic():
            order = order_lock(order_id=order_id, customer=customer)
            if order.status != OrderStatus.DELIVERED:
                raise OrderNotDelivered(field="status")
            if not order.items.filter(product_id=product_id).exists():
                raise ProductNotInOrder(field="product_id")
            return Review.objects.create(
                customer=customer, order=order, product_id=product_id, rating=rating, text=text
            )
    except IntegrityError:  # the unique (customer, product) constraint, even under a race
        raise AlreadyReviewed(field="product_id") from None


def review_reminders_send(*, after: timedelta) -> int:
    """Ask for a review of each order delivered at least `after` ago: once, and never when reviewed.

    The reminder is recorded on the order in the same transaction as its
    notifications, so a second run (or two at once) sends nothing more.
    """
    due = Order.objects.filter(
        status=OrderStatus.DELIVERED,
        delivered_at__lte=timezone.now() - after,
        review_reminder_sent_at=None,
    ).exclude(Exists(Review.objects.filter(order=OuterRef("pk"))))
    sent = 0
    for order_id in due.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            order = due.select_for_update(skip_locked=True, of=("self",)).filter(pk=order_id).first()
            if order is None:
                continue
            order_notify(order=order, event=Event.REVIEW_REMINDER)
            order.review_reminder_sent_at = timezone.now()
            order.save(update_fields=["review_reminder_sent_at"])
            sent += 1
    return sent
