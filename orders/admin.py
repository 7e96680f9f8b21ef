from django.contrib import admin

from .models import Order, OrderItem, OrderPaymentDetails, Product, Seller


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
    readonly_fields = ("reference", "amount", "currency", "status", "created_at", "updated_at")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the services (and their rules), not this form."""

    list_display = ("id", "customer", "status", "total", "currency", "created_at")
    list_filter = ("status", "currency")
    list_select_related = ("customer",)
    search_fields = ("id", "customer__email", "payment__reference")
    readonly_fields = ("customer", "status", "total", "currency", "created_at", "updated_at")
    inlines = (OrderItemInline, OrderPaymentDetailsInline)
    date_hierarchy = "created_at"
