"""Writes on orders: creation with stock reservation, and status transitions."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from notifications.models import Event
from orders.models import Order, OrderItem, OrderPaymentDetails, OrderStatus, PaymentStatus, Product
from services.exceptions import (
    DuplicateProduct,
    EmptyOrder,
    InvalidTransition,
    MixedCurrencies,
    NotFound,
    OutOfStock,
    ProductUnavailable,
)
from services.notifications.fanout import order_notify
from services.selectors.orders import order_get


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


@transaction.atomic
def order_create(*, customer: User, items: Sequence[OrderLine]) -> Order:
    """Reserve stock for `items` and create the order, all or nothing.

    Products are locked in id order, so two orders sharing products always take
    their locks in the same order and cannot deadlock.
    """
    if not items:
        raise EmptyOrder(field="items")
    position: dict[int, int] = {}
    for index, line in enumerate(items):
        if line.product_id in position:
            raise DuplicateProduct(field=f"items.{index}.product_id")
        position[line.product_id] = index

    products = {
        p.pk: p
        for p in Product.objects.select_for_update(of=("self",))
        .select_related("seller")
        .filter(pk__in=position, is_active=True)
        .order_by("pk")
    }
    for index, line in enumerate(items):
        product = products.get(line.product_id)
        if product is None:
            raise ProductUnavailable(field=f"items.{index}.product_id")
        if product.stock < line.quantity:
            raise OutOfStock(
                f"Only {product.stock} of {product.sku} left, {line.quantity} requested.",
                field=f"items.{index}.quantity",
            )
    currencies = {p.currency for p in products.values()}
    if len(currencies) > 1:
        raise MixedCurrencies(field="items")

    Product.objects.take_stock({line.product_id: line.quantity for line in items})
    for line in items:
        products[line.product_id].stock -= line.quantity

    total = sum((products[line.product_id].price * line.quantity for line in items), Decimal("0"))
    order = Order.objects.create(customer=customer, total=total, currency=currencies.pop())
    order.lines = OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=products[line.product_id],
            quantity=line.quantity,
            unit_price=products[line.product_id].price,
        )
        for line in items
    )
    order_notify(order=order, event=Event.ORDER_CREATED, items=order.lines)
    # Answered as written: its payment (orders/signals.py) and lines are in hand, no re-read.
    return order


def order_lock(*, order_id: int, customer: User | None = None) -> Order:
    """The order, locked for the rest of the caller's transaction."""
    orders = Order.objects.select_for_update()
    if customer is not None:
        orders = orders.filter(customer=customer)
    try:
        return orders.get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("No such order.") from None


def _transition(order: Order, status: str) -> None:
    if not order.can_become(status):
        current, target = order.get_status_display().lower(), OrderStatus(status).label.lower()
        raise InvalidTransition(f"An order that is {current} cannot become {target}.", field="status")
    order.status = status
    order.save(update_fields=["status", "updated_at"])


def _restock(order: Order) -> None:
    items = list(order.items.order_by("product_id"))
    # Lock in the same id order as order_create does.
    list(Product.objects.select_for_update().filter(pk__in=[i.product_id for i in items]).order_by("pk"))
    for item in items:
        Product.objects.filter(pk=item.product_id).update(stock=F("stock") + item.quantity)


@transaction.atomic
def order_cancel(*, order_id: int, customer: User | None = None) -> Order:
    """Cancel an order that is not yet shipped and put its items back in stock.

    With `customer`, only that customer's order can be cancelled (others are not found).
    """
    order = order_lock(order_id=order_id, customer=customer)
    _cancel(order)
    return order_get(user=order.customer, order_id=order.pk)


def _cancel(order: Order) -> None:
    _transition(order, OrderStatus.CANCELLED)
    _restock(order)
    # No payment is expected any more; a late callback for it will not be applied.
    OrderPaymentDetails.objects.filter(order=order, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED
    )
    order_notify(order=order, event=Event.ORDER_CANCELLED)


def orders_expire_unpaid(*, older_than: timedelta) -> int:
    """Cancel orders waiting for payment longer than `older_than`; their stock goes back.

    Each order in its own short transaction; one locked by a payment being applied
    right now is skipped (the next run sees it paid, or takes it).
    """
    cutoff = timezone.now() - older_than
    due = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff)
    expired = 0
    for order_id in due.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            order = due.select_for_update(skip_locked=True).filter(pk=order_id).first()
            if order is not None:
                _cancel(order)
                expired += 1
    return expired


@transaction.atomic
def order_ship(*, order_id: int) -> Order:
    """A paid order leaves the warehouse (staff); the customer is told."""
    return _advance(order_id, OrderStatus.SHIPPED, "shipped_at", Event.ORDER_SHIPPED)


@transaction.atomic
def order_deliver(*, order_id: int) -> Order:
    """A shipped order reached the customer (staff): reviews open, a reminder follows later."""
    return _advance(order_id, OrderStatus.DELIVERED, "delivered_at", Event.ORDER_DELIVERED)


def _advance(order_id: int, status: str, stamp: str, event: str) -> Order:
    order = order_lock(order_id=order_id)
    _transition(order, status)
    setattr(order, stamp, timezone.now())
    order.save(update_fields=[stamp])
    order_notify(order=order, event=event)
    return order_get(user=order.customer, order_id=order.pk)


def order_mark_paid(*, order: Order) -> None:
    """pending_payment -> paid, in the caller's transaction, with `order` locked."""
    _transition(order, OrderStatus.PAID)
    order_notify(order=order, event=Event.ORDER_PAID)


def order_mark_payment_failed(*, order: Order) -> None:
    """pending_payment -> payment_failed, stock back on sale, in the caller's transaction."""
    _transition(order, OrderStatus.PAYMENT_FAILED)
    _restock(order)
    order_notify(order=order, event=Event.ORDER_PAYMENT_FAILED)
