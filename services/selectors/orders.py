from django.db.models import Prefetch, QuerySet

from accounts.models import User
from orders.models import Order, OrderItem
from services.exceptions import NotFound


def order_list(*, user: User) -> QuerySet[Order]:
    """The user's own orders with everything an order representation shows: the payment,
    and the items with their products as `order.lines`."""
    lines = Prefetch("items", queryset=OrderItem.objects.select_related("product"), to_attr="lines")
    # django-stubs takes to_attr for a new attribute; Order declares it for order_create's sake.
    return Order.objects.filter(customer=user).select_related("payment").prefetch_related(lines)  # type: ignore[no-redef]


def order_get(*, user: User, order_id: int) -> Order:
    """One of the user's orders; someone else's order is reported as not found."""
    try:
        return order_list(user=user).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("No such order.") from None


def order_get_for_viewer(*, viewer: User, order_id: int) -> Order:
    """An order its customer or any staff member may look at."""
    orders = Order.objects.all() if viewer.is_staff else Order.objects.filter(customer=viewer)
    try:
        return orders.get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("No such order.") from None
