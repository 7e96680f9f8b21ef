from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.utils.regex_helper import _lazy_re_compile
from drf_spectacular.utils import extend_schema_field

from pro_platform.filters import FilterSet

from .models import MAX_ID, MAX_PRICE, Order, OrderStatus, Product


class WholeNumberField(forms.IntegerField):
    re_decimal = _lazy_re_compile(r"(?!)")  # "5.0" is not a whole number here, as in the schema


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    field_class = WholeNumberField

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)})
class PriceFilter(django_filters.NumberFilter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=Decimal(0), max_value=MAX_PRICE, **kwargs)


class ProductFilter(FilterSet):
    seller = IdFilter(field_name="seller_id")
    min_price = PriceFilter(field_name="price", lookup_expr="gte")
    max_price = PriceFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ("seller", "min_price", "max_price", "currency")


class OrderFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)

    class Meta:
        model = Order
        fields = ("status",)
