from rest_framework import serializers

from .models import Order, OrderItem, OrderPaymentDetails, Product, Seller

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
