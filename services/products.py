from decimal import Decimal
from typing import Any

from django.db import transaction

from orders.models import Currency, Product, Seller


@transaction.atomic
def product_create(
    *,
    seller: Seller,
    name: str,
    sku: str,
    price: Decimal,
    currency: str = Currency.USD,
    stock: int = 0,
    is_active: bool = True,
) -> Product:
    return Product.objects.create(
        seller=seller, name=name, sku=sku, price=price, currency=currency, stock=stock, is_active=is_active
    )


PRODUCT_UPDATABLE_FIELDS = frozenset({"seller", "name", "sku", "price", "currency", "stock", "is_active"})


@transaction.atomic
def product_update(*, product_id: int, data: dict[str, Any]) -> Product:
    unknown = set(data) - PRODUCT_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    product = Product.objects.select_for_update().get(pk=product_id)
    for field, value in data.items():
        setattr(product, field, value)
    product.save(update_fields=[*data, "updated_at"])
    return product


def seller_create(*, name: str, email: str, telegram_chat_id: str = "") -> Seller:
    return Seller.objects.create(name=name, email=email, telegram_chat_id=telegram_chat_id)
