"""Reference endpoints for the benchmarks (bench/urls.py); the product never serves them."""

from django.http import HttpRequest, JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.models import Event, Notification
from orders.apis import OrderListCreateApi
from services.notifications.delivery import notification_send

CONSTANT = {"status": "ok"}


class ConstantApi(APIView):
    """DRF's floor: routing, content negotiation, rendering; no authentication, no database."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response(CONSTANT)


def django_constant(request: HttpRequest) -> JsonResponse:
    """Django's floor: the same answer without DRF."""
    return JsonResponse(CONSTANT)


class OrderCreateSendingInlineApi(OrderListCreateApi):
    """POST /orders/ as it would be without workers: the e-mails and Telegram messages are
    sent inside the request, before the answer (run with TASK_PUBLISHING=off)."""

    def post(self, request: Request) -> Response:
        response = super().post(request)
        for notification_id in Notification.objects.filter(
            order_id=response.data["id"], event=Event.ORDER_CREATED
        ).values_list("id", flat=True):
            notification_send(notification_id=notification_id)
        return response
