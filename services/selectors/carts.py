from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from orders.models import Cart, CartItem


@dataclass(frozen=True)
class CartView:
    """The cart as the customer sees it, at today's prices."""

    items: list[CartItem]
    totals: list[dict[str, str]]  # one per currency: {"currency", "amount"}
    updated_at: datetime | None


def cart_get(*, customer: User) -> CartView:
    cart = Cart.objects.filter(customer=customer).first()
    items = list(
        CartItem.objects.filter(cart__customer=customer)
        .select_related("product", "product__seller")
        .order_by("id")
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item.product.currency] += item.product.price * item.quantity
    return CartView(
        items=items,
        totals=[{"currency": c, "amount": str(a)} for c, a in sorted(totals.items())],
        updated_at=cart.updated_at if cart else None,
    )
