from django.db.models import Avg, Count, DecimalField, QuerySet

from orders.models import Product, Review, Seller
from services.exceptions import NotFound


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their seller, average rating and number of reviews."""
    products = Product.objects.select_related("seller").annotate(
        review_count=Count("reviews"),
        average_rating=Avg("reviews__rating", output_field=DecimalField(max_digits=3, decimal_places=2)),
    )
    return products if include_inactive else products.filter(is_active=True)


def product_get(*, product_id: int, include_inactive: bool = True) -> Product:
    try:
        return product_list(include_inactive=include_inactive).get(pk=product_id)
    except Product.DoesNotExist:
        raise NotFound("No such product.") from None


def review_list(*, product_id: int) -> QuerySet[Review]:
    """A product's reviews, newest first (404 for a product that is not for sale)."""
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise NotFound("No such product.")
    return Review.objects.filter(product_id=product_id)


def seller_list() -> QuerySet[Seller]:
    return Seller.objects.all()
