"""The customer's cart: what they mean to buy. Stock and prices are checked at checkout,
by the very same `order_create` that POST /orders/ uses."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from orders.models import MAX_LINE_QUANTITY, MAX_ORDER_LINES, Cart, CartItem, Order, Product
from services.exceptions import Conflict, NotFound, ProductUnavailable
from services.orders import OrderLine, order_create
from services.selectors.carts import CartView, cart_get


class CartEmpty(Conflict):
    code = "cart_empty"
    message = "Your cart is empty."


class CartFull(Conflict):
    code = "cart_full"
    message = f"A cart holds at most {MAX_ORDER_LINES} products, as an order does."


class CartQuantityLimit(Conflict):
    code = "cart_quantity_limit"
    message = f"A cart holds at most {MAX_LINE_QUANTITY} of one product, as an order line does."


def _cart_for(customer: User) -> Cart:
    cart, _ = Cart.objects.get_or_create(customer=customer)
    return cart


def _touch(cart: Cart) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


@transaction.atomic
def cart_item_add(*, customer: User, product_id: int, quantity: int) -> CartView:
    """Put a product in the cart; one already there gets the quantity added.

    A cart is bounded like an order: MAX_ORDER_LINES products, MAX_LINE_QUANTITY of each.
    """
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise ProductUnavailable(field="product_id")
    cart = Cart.objects.select_for_update().get(pk=_cart_for(customer).pk)  # one change at a time
    item = cart.items.filter(product_id=product_id).first()
    if item is None:
        if cart.items.count() >= MAX_ORDER_LINES:
            raise CartFull(field="product_id")
        CartItem.objects.create(cart=cart, product_id=product_id, quantity=quantity)
    elif item.quantity + quantity > MAX_LINE_QUANTITY:
        raise CartQuantityLimit(field="quantity")
    else:
        CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    _touch(cart)
    return cart_get(customer=customer)


def _own_item(customer: User, item_id: int) -> CartItem:
    try:
        return CartItem.objects.select_for_update().get(pk=item_id, cart__customer=customer)
    except CartItem.DoesNotExist:
        raise NotFound("No such item in your cart.") from None


@transaction.atomic
def cart_item_update(*, customer: User, item_id: int, quantity: int | None = None) -> CartView:
    """Change what is given of one of the customer's cart items (nothing given: nothing changes)."""
    item = _own_item(customer, item_id)
    if quantity is not None:
        item.quantity = quantity
        item.save(update_fields=["quantity"])
        _touch(item.cart)
    return cart_get(customer=customer)


@transaction.atomic
def cart_item_remove(*, customer: User, item_id: int) -> None:
    item = _own_item(customer, item_id)
    item.delete()
    _touch(item.cart)


@transaction.atomic
def cart_checkout(*, customer: User) -> Order:
    """Place the cart as an order (same rules as POST /orders/) and empty it, all or nothing."""
    cart = Cart.objects.select_for_update().filter(customer=customer).first()
    items = list(cart.items.order_by("id")) if cart else []
    if not items:
        raise CartEmpty()
    order = order_create(
        customer=customer,
        items=[OrderLine(item.product_id, item.quantity) for item in items],
    )
    if cart is not None:
        cart.items.all().delete()
        _touch(cart)
    return order


def carts_delete_stale(*, older_than: timedelta) -> int:
    """Delete carts nobody touched for `older_than`; return how many."""
    _, by_model = Cart.objects.filter(updated_at__lt=timezone.now() - older_than).delete()
    return by_model.get(Cart._meta.label, 0)
