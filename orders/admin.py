from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Cart,
    CartItem,
    Order,
    OrderItem,
    OrderPaymentDetails,
    PaymentCallback,
    Product,
    Review,
    Seller,
)


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "email", "telegram_chat_id")
    search_fields = ("name", "email")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("id", "sku", "name", "seller", "price", "currency", "stock", "is_active")
    list_filter = ("is_active", "currency", "seller")
    list_select_related = ("seller",)
    search_fields = ("sku", "name")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    raw_id_fields = ("product",)
    readonly_fields = ("product", "quantity", "unit_price")
    can_delete = False


class OrderPaymentDetailsInline(admin.StackedInline):
    model = OrderPaymentDetails
    can_delete = False
    readonly_fields = (
        "reference",
        "amount",
        "currency",
        "status",
        "provider_data",
        "paid_at",
        "flagged",
        "flag_reason",
        "created_at",
        "updated_at",
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the services (and their rules), not this form."""

    list_display = ("id", "customer", "status", "total", "currency", "created_at")
    list_filter = ("status", "currency", "payment__flagged")
    list_select_related = ("customer",)
    search_fields = ("id", "customer__email", "payment__reference")
    readonly_fields = (
        "customer",
        "status",
        "total",
        "currency",
        "created_at",
        "updated_at",
        "shipped_at",
        "delivered_at",
        "review_reminder_sent_at",
    )
    inlines = (OrderItemInline, OrderPaymentDetailsInline)
    date_hierarchy = "created_at"


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(admin.ModelAdmin):
    list_display = (
        "event_id",
        "order",
        "status",
        "amount",
        "currency",
        "state",
        "received_at",
        "processed_at",
    )
    list_filter = ("state", "status")
    search_fields = ("event_id", "payment_reference", "order__id")
    readonly_fields = [field.name for field in PaymentCallback._meta.fields]
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ("product",)


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "created_at", "updated_at")
    list_select_related = ("customer",)
    search_fields = ("customer__email",)
    raw_id_fields = ("customer",)
    inlines = (CartItemInline,)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("id", "product", "customer", "rating", "created_at")
    list_filter = ("rating",)
    list_select_related = ("product", "customer")
    search_fields = ("product__sku", "product__name", "customer__email", "text")
    raw_id_fields = ("customer", "product", "order")
