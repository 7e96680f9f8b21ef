from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from pro_platform.openapi import error_responses
from services.exceptions import NotFound
from services.selectors.notifications import notification_list, order_timeline
from services.selectors.orders import order_get_for_viewer

from .filters import NotificationFilter
from .models import Notification
from .serializers import NotificationOutputSerializer, TimelineEntrySerializer


@extend_schema(tags=["notifications"])
class NotificationListApi(generics.ListAPIView):
    """List your notifications.

    Every e-mail and Telegram message the platform sent you or tried to, newest first,
    with its state and attempts; filter by `status` and `channel`.
    """

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
    @extend_schema(
        responses={200: TimelineEntrySerializer(many=True), **error_responses(not_found=[NotFound.code])}
    )
    def get(self, request: Request, pk: int) -> Response:
        """Show an order's timeline (its customer or staff).

        The asynchronous side effects of the order, oldest first: each notification's channel,
        state, attempts, last error and next retry, and each payment callback received.
        """
        viewer = request_user(request)
        order = order_get_for_viewer(viewer=viewer, order_id=pk)
        return Response(TimelineEntrySerializer(order_timeline(order=order, viewer=viewer), many=True).data)
