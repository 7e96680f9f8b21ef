from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from services.selectors.notifications import notification_list, order_timeline
from services.selectors.orders import order_get_for_viewer

from .filters import NotificationFilter
from .models import Notification
from .serializers import NotificationOutputSerializer, TimelineEntrySerializer


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
class OrderEventListApi(APIView):
    @extend_schema(responses={200: TimelineEntrySerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        """The order's timeline of asynchronous side effects, oldest first (its customer or staff)."""
        viewer = request_user(request)
        order = order_get_for_viewer(viewer=viewer, order_id=pk)
        return Response(TimelineEntrySerializer(order_timeline(order=order, viewer=viewer), many=True).data)
