from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Audience, Notification
from orders.models import Order


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The notifications addressed to the user."""
    return Notification.objects.filter(user=user)


def order_event_list(*, order: Order, viewer: User) -> QuerySet[Notification]:
    """The order's asynchronous side effects, oldest first: all of them for staff,
    the customer's own notifications for the customer (not sellers' or managers')."""
    events = Notification.objects.filter(order=order).order_by("created_at", "id")
    return events if viewer.is_staff else events.filter(audience=Audience.CUSTOMER)
