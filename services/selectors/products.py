from django.db.models import QuerySet

from orders.models import Product, Seller


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    products = Product.objects.select_related("seller")
    return products if include_inactive else products.filter(is_active=True)


def seller_list() -> QuerySet[Seller]:
    return Seller.objects.all()
