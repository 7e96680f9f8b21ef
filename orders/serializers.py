from decimal import Decimal
from typing import Any

from django.db import models
from rest_framework import serializers

from pro_platform.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictDecimalField,
    StrictIntegerField,
    StrictRegexField,
)

from .models import (
    MAX_ID,
    MAX_LINE_QUANTITY,
    MAX_ORDER_LINES,
    CallbackState,
    CallbackStatus,
    CartItem,
    Currency,
    Order,
    OrderStatus,
    PaymentStatus,
    Product,
    Review,
    Seller,
)


class SellerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Seller
        fields = ("id", "name")


class ProductOutputSerializer(serializers.ModelSerializer):
    seller = SellerSerializer()
    average_rating = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True, help_text="Of its reviews; null before the first."
    )
    review_count = serializers.IntegerField()

    class Meta:
        model = Product
        fields = (
            "id",
            "seller",
            "name",
            "sku",
            "price",
            "currency",
            "stock",
            "is_active",
            "average_rating",
            "review_count",
            "created_at",
            "updated_at",
        )


class SellerIdField(serializers.PrimaryKeyRelatedField):
    """A seller's id, as a JSON integer (DRF would take "1" too)."""

    def to_internal_value(self, data: Any) -> Seller:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ProductInputSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.PositiveIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
        models.DecimalField: StrictDecimalField,
    }
    seller_id = SellerIdField(source="seller", queryset=Seller.objects.all())
    # At most MAX_PRICE (999999.99), which the pattern says by its 6 whole digits.
    price = StrictDecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Product
        fields = ("seller_id", "name", "sku", "price", "currency", "stock", "is_active")


class OrderLineInputSerializer(serializers.Serializer):
    """A product and how many of it: an order's line, or what goes into the cart."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderCreateInputSerializer(serializers.Serializer):
    # Duplicates, availability and stock are business rules: services.orders checks them.
    items = serializers.ListField(
        child=OrderLineInputSerializer(), allow_empty=False, min_length=1, max_length=MAX_ORDER_LINES
    )


# Answers: plain serializers with their fields spelled out. A ModelSerializer builds its
# fields from the model again for every instance, which doubled the cost of an order's answer.
class OrderItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product_id = serializers.IntegerField()
    name = serializers.CharField(source="product.name")
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class PaymentOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.ChoiceField(choices=Currency.choices)
    reference = serializers.CharField(read_only=True)


# How DRF writes amounts and times, for the answers written by hand below.
_money = serializers.DecimalField(max_digits=14, decimal_places=2).to_representation
_time = serializers.DateTimeField().to_representation


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.ChoiceField(choices=Currency.choices)
    items = OrderItemOutputSerializer(many=True, source="lines")
    payment = PaymentOutputSerializer()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, order: Order) -> dict[str, Any]:
        """What the fields above declare (the schema's contract), written by hand: DRF would
        copy and bind 25 field objects for every answer, a tenth of an order's CPU. The two
        are held together by tests/api/test_orders.py.

        `order.lines` are its items with their products: order_list prefetches them there,
        and order_create sets them.
        """
        payment = order.payment
        return {
            "id": order.pk,
            "status": str(order.status),
            "total": _money(order.total),
            "currency": str(order.currency),
            "items": [
                {
                    "id": item.pk,
                    "product_id": item.product_id,
                    "name": item.product.name,
                    "sku": item.product.sku,
                    "quantity": item.quantity,
                    "unit_price": _money(item.unit_price),
                    "line_total": _money(item.line_total),
                }
                for item in order.lines
            ],
            "payment": {
                "status": str(payment.status),
                "amount": _money(payment.amount),
                "currency": str(payment.currency),
                "reference": payment.reference,
            },
            "created_at": _time(order.created_at),
            "updated_at": _time(order.updated_at),
            "shipped_at": order.shipped_at and _time(order.shipped_at),
            "delivered_at": order.delivered_at and _time(order.delivered_at),
        }


class PaymentCallbackInputSerializer(serializers.Serializer):
    event_id = StrictCharField(max_length=100, help_text="The provider's unique id of this event.")
    payment_reference = StrictCharField(max_length=64, help_text="`payment.reference` of the order.")
    status = serializers.ChoiceField(choices=CallbackStatus.choices)
    amount = StrictDecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    currency = StrictRegexField(r"^[A-Z]{3}$", help_text="ISO 4217, e.g. USD.")
    failure_reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class PaymentCallbackReceiptSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate"])
    event_id = serializers.CharField()
    callback_id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=CallbackState.choices, help_text="Processing state of the callback."
    )
    task_id = serializers.CharField()
    status_url = serializers.CharField(help_text="Follow the processing task here.")


class CartItemUpdateSerializer(serializers.Serializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CartItemOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField(source="product.name")
    sku = serializers.CharField(source="product.sku")
    unit_price = serializers.DecimalField(
        source="product.price", max_digits=12, decimal_places=2, help_text="Today's price."
    )
    currency = serializers.CharField(source="product.currency")
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    available = serializers.SerializerMethodField(
        help_text="For sale and in stock for this quantity now (checked again at checkout)."
    )

    class Meta:
        model = CartItem
        fields = (
            "id",
            "product_id",
            "name",
            "sku",
            "unit_price",
            "currency",
            "quantity",
            "line_total",
            "available",
        )

    def get_available(self, item: CartItem) -> bool:
        return item.product.is_active and item.product.stock >= item.quantity


class MoneySerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class CartOutputSerializer(serializers.Serializer):
    items = CartItemOutputSerializer(many=True)
    totals = MoneySerializer(many=True, help_text="One per currency; an order takes one currency.")
    updated_at = serializers.DateTimeField(allow_null=True)


class ReviewInputSerializer(serializers.Serializer):
    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    rating = StrictIntegerField(min_value=1, max_value=5)
    text = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ReviewOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    order_id = serializers.IntegerField()

    class Meta:
        model = Review
        fields = ("id", "product_id", "order_id", "rating", "text", "created_at")


class PublicReviewSerializer(serializers.ModelSerializer):
    """What anyone may read: no customer, no order."""

    class Meta:
        model = Review
        fields = ("id", "rating", "text", "created_at")
