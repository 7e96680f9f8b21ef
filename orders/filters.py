import django_filters

from .models import Order, OrderStatus, Product


class ProductFilter(django_filters.FilterSet):
    seller = django_filters.NumberFilter(field_name="seller_id")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ("seller", "min_price", "max_price", "currency")


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)

    class Meta:
        model = Order
        fields = ("status",)
