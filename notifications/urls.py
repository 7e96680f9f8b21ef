from django.urls import path

from .apis import NotificationListApi, OrderEventListApi

urlpatterns = [
    path("notifications/", NotificationListApi.as_view(), name="notification-list"),
    path("orders/<int:pk>/events/", OrderEventListApi.as_view(), name="order-events"),
]
