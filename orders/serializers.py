from decimal import Decimal

from rest_framework import serializers

from .models import CallbackState, CallbackStatus, Order, OrderItem, OrderPaymentDetails, Product, Seller

MAX_LINE_QUANTITY = 1000
MAX_ORDER_LINES = 100


class SellerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Seller
        fields = ("id", "name")


class ProductOutputSerializer(serializers.ModelSerializer):
    seller = SellerSerializer()

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
            "created_at",
            "updated_at",
        )


class ProductInputSerializer(serializers.ModelSerializer):
    seller_id = serializers.PrimaryKeyRelatedField(source="seller", queryset=Seller.objects.all())

    class Meta:
        model = Product
        fields = ("seller_id", "name", "sku", "price", "currency", "stock", "is_active")


class OrderLineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderCreateInputSerializer(serializers.Serializer):
    # Duplicates, availability and stock are business rules: services.orders checks them.
    items = serializers.ListField(
        child=OrderLineInputSerializer(), allow_empty=False, max_length=MAX_ORDER_LINES
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
        fields = ("id", "status", "total", "currency", "items", "payment", "created_at", "updated_at")


class PaymentCallbackInputSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100, help_text="The provider's unique id of this event.")
    payment_reference = serializers.CharField(max_length=64, help_text="`payment.reference` of the order.")
    status = serializers.ChoiceField(choices=CallbackStatus.choices)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), coerce_to_string=True
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, e.g. USD.")
    failure_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PaymentCallbackReceiptSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate"])
    event_id = serializers.CharField()
    callback_id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=CallbackState.choices, help_text="Processing state of the callback."
    )
    task_id = serializers.CharField()
    status_url = serializers.CharField(help_text="Follow the processing task here.")
