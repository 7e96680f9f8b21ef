from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from accounts.auth import request_user
from services.selectors.notifications import notification_list, order_event_list
from services.selectors.orders import order_get_for_viewer

from .filters import NotificationFilter
from .models import Notification
from .serializers import NotificationOutputSerializer, OrderEventSerializer


@extend_schema(tags=["notifications"])
class NotificationListApi(generics.ListAPIView):
    """The caller's own notifications, newest first."""

    serializer_class = NotificationOutputSerializer
    filterset_class = NotificationFilter
    ordering_fields = ("created_at", "id")
    search_fields = ()

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return notification_list(user=request_user(self.request))


@extend_schema(tags=["orders"])
class OrderEventListApi(generics.ListAPIView):
    """The order's timeline of asynchronous side effects, oldest first (the order's customer or staff)."""

    serializer_class = OrderEventSerializer
    filter_backends = ()
    pagination_class = None

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        viewer = request_user(self.request)
        order = order_get_for_viewer(viewer=viewer, order_id=self.kwargs["pk"])
        return order_event_list(order=order, viewer=viewer)
