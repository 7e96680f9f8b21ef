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
    Order,
    OrderItem,
    OrderPaymentDetails,
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


class OrderItemOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField(source="product.name")
    sku = serializers.CharField(source="product.sku")
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = OrderItem
        fields = ("id", "product_id", "name", "sku", "quantity", "unit_price", "line_total")


class PaymentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderPaymentDetails
        fields = ("status", "amount", "currency", "reference")


class OrderOutputSerializer(serializers.ModelSerializer):
    items = OrderItemOutputSerializer(many=True)
    payment = PaymentOutputSerializer()

    class Meta:
        model = Order
        fields = (
            "id",
            "status",
            "total",
            "currency",
            "items",
            "payment",
            "created_at",
            "updated_at",
            "shipped_at",
            "delivered_at",
        )


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
