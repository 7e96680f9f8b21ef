from django.urls import path

from .apis import (
    OrderCancelApi,
    OrderDetailApi,
    OrderListCreateApi,
    PaymentCallbackApi,
    ProductDetailApi,
    ProductListCreateApi,
)

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:pk>/", ProductDetailApi.as_view(), name="product-detail"),
    path("orders/", OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path("payments/callback/", PaymentCallbackApi.as_view(), name="payment-callback"),
]
