from django.urls import path

from .apis import (
    CartApi,
    CartCheckoutApi,
    CartItemCreateApi,
    CartItemDetailApi,
    OrderCancelApi,
    OrderDeliverApi,
    OrderDetailApi,
    OrderListCreateApi,
    OrderReviewCreateApi,
    OrderShipApi,
    PaymentCallbackApi,
    ProductDetailApi,
    ProductListCreateApi,
    ProductReviewListApi,
)

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:pk>/", ProductDetailApi.as_view(), name="product-detail"),
    path("orders/", OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("products/<int:pk>/reviews/", ProductReviewListApi.as_view(), name="product-reviews"),
    path("orders/<int:pk>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:pk>/ship/", OrderShipApi.as_view(), name="order-ship"),
    path("orders/<int:pk>/deliver/", OrderDeliverApi.as_view(), name="order-deliver"),
    path("orders/<int:pk>/reviews/", OrderReviewCreateApi.as_view(), name="order-reviews"),
    path("cart/", CartApi.as_view(), name="cart"),
    path("cart/items/", CartItemCreateApi.as_view(), name="cart-items"),
    path("cart/items/<int:pk>/", CartItemDetailApi.as_view(), name="cart-item"),
    path("cart/checkout/", CartCheckoutApi.as_view(), name="cart-checkout"),
    path("payments/callback/", PaymentCallbackApi.as_view(), name="payment-callback"),
]
