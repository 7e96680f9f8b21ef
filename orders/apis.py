from collections.abc import Callable

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from pro_platform.exceptions import ConflictErrorResponseSerializer
from services.carts import cart_checkout, cart_item_add, cart_item_remove, cart_item_update
from services.exceptions import DuplicateProduct, EmptyOrder, MixedCurrencies, ProductUnavailable
from services.orders import OrderLine, order_cancel, order_create, order_deliver, order_ship
from services.payments import (
    CallbackData,
    UnknownPaymentReference,
    payment_callback_receive,
    payment_callback_verify,
)
from services.products import product_create, product_update
from services.reviews import ProductNotInOrder, review_create
from services.selectors.carts import cart_get
from services.selectors.orders import order_get, order_list
from services.selectors.products import product_get, product_list, review_list
from services.webhooks import (
    SIGNATURE_HEADER,
    InvalidSignature,
    SignatureMalformed,
    SignatureMissing,
    TimestampOutOfTolerance,
)

from .filters import OrderFilter, ProductFilter
from .models import Order, Product, Review
from .permissions import IsStaffOrReadOnly
from .serializers import (
    CartItemInputSerializer,
    CartItemUpdateSerializer,
    CartOutputSerializer,
    OrderCreateInputSerializer,
    OrderOutputSerializer,
    PaymentCallbackInputSerializer,
    PaymentCallbackReceiptSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
    PublicReviewSerializer,
    ReviewInputSerializer,
    ReviewOutputSerializer,
)

CONFLICT = OpenApiResponse(
    ConflictErrorResponseSerializer, description="The current state does not allow it."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string up to 64 characters, new for each order. Sending the same request "
        "again with the same key (after a timeout or a 503) returns the order placed the first "
        "time instead of placing another; the same key with other items is 409 idempotency_key_reused."
    ),
)
MAX_IDEMPOTENCY_KEY_LENGTH = 64


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationError(
            {
                "idempotency_key": [
                    ErrorDetail(f"At most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.", code="max_length")
                ]
            }
        )
    return key


@extend_schema(tags=["products"])
class ProductListCreateApi(generics.ListAPIView):
    """The catalogue: active products, searchable, filterable and sortable."""

    permission_classes = (IsStaffOrReadOnly,)
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    search_fields = ("name", "sku", "seller__name")
    ordering_fields = ("price", "name", "created_at", "id")
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[Product]:
        return product_list(include_inactive=bool(self.request.user and self.request.user.is_staff))

    @extend_schema(request=ProductInputSerializer, responses={201: ProductOutputSerializer})
    def post(self, request: Request) -> Response:
        """Add a product (staff only)."""
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return Response(
            ProductOutputSerializer(product_get(product_id=product.pk)).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["products"])
class ProductDetailApi(generics.RetrieveAPIView):
    permission_classes = (IsStaffOrReadOnly,)
    serializer_class = ProductOutputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_list(include_inactive=bool(self.request.user and self.request.user.is_staff))

    @extend_schema(request=ProductInputSerializer, responses={200: ProductOutputSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        """Change some fields of a product (staff only)."""
        product = self.get_object()
        serializer = ProductInputSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product_update(product_id=product.pk, data=serializer.validated_data)
        return Response(ProductOutputSerializer(product_get(product_id=product.pk)).data)


@extend_schema(tags=["orders"])
@extend_validation_errors(
    [DuplicateProduct.code, ProductUnavailable.code], field_name="items.INDEX.product_id", methods=["post"]
)
@extend_validation_errors([MixedCurrencies.code, EmptyOrder.code], field_name="items", methods=["post"])
@extend_validation_errors(["max_length"], field_name="idempotency_key", methods=["post"])
class OrderListCreateApi(generics.ListAPIView):
    """The caller's own orders, newest first."""

    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    ordering_fields = ("created_at", "total", "id")
    search_fields = ("items__product__name", "items__product__sku")

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Order.objects.none()
        return order_list(user=request_user(self.request))

    @extend_schema(
        request=OrderCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OrderOutputSerializer, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        """Place an order. Stock is reserved at once; the confirmation e-mail follows asynchronously."""
        serializer = OrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_create(
            customer=request_user(request),
            items=[OrderLine(**line) for line in serializer.validated_data["items"]],
            idempotency_key=idempotency_key(request),
        )
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderOutputSerializer

    def get_object(self) -> Order:
        return order_get(user=request_user(self.request), order_id=self.kwargs["pk"])


@extend_schema(tags=["orders"])
class OrderCancelApi(generics.GenericAPIView):
    serializer_class = OrderOutputSerializer

    @extend_schema(request=None, responses={200: OrderOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        """Cancel an order that is pending payment or paid; its items go back in stock."""
        order = order_cancel(order_id=pk, customer=request_user(request))
        return Response(OrderOutputSerializer(order).data)


class StaffOrderTransitionApi(generics.GenericAPIView):
    """Staff move an order along (subclasses name the service)."""

    permission_classes = (IsAdminUser,)
    serializer_class = OrderOutputSerializer
    transition: Callable[..., Order]

    @extend_schema(request=None, responses={200: OrderOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        return Response(OrderOutputSerializer(self.transition(order_id=pk)).data)


@extend_schema(tags=["orders"])
class OrderShipApi(StaffOrderTransitionApi):
    """Staff: a paid order is shipped; the customer is told."""

    transition = staticmethod(order_ship)


@extend_schema(tags=["orders"])
class OrderDeliverApi(StaffOrderTransitionApi):
    """Staff: a shipped order was delivered; the customer may now review its products."""

    transition = staticmethod(order_deliver)


@extend_schema(tags=["reviews"])
@extend_validation_errors([ProductNotInOrder.code], field_name="product_id", methods=["post"])
class OrderReviewCreateApi(APIView):
    @extend_schema(
        request=ReviewInputSerializer, responses={201: ReviewOutputSerializer, 404: None, 409: CONFLICT}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Rate a product of your delivered order, 1 to 5; once per product."""
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = review_create(customer=request_user(request), order_id=pk, **serializer.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"])
class ProductReviewListApi(generics.ListAPIView):
    """A product's reviews, newest first."""

    permission_classes = (AllowAny,)
    serializer_class = PublicReviewSerializer
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Review]:
        return review_list(product_id=self.kwargs["pk"])


# --- Cart --------------------------------------------------------------------------------------


def cart_response(customer_cart: object, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(customer_cart).data, status=status_code)


@extend_schema(tags=["cart"])
class CartApi(APIView):
    @extend_schema(responses={200: CartOutputSerializer})
    def get(self, request: Request) -> Response:
        """Your cart at today's prices."""
        return cart_response(cart_get(customer=request_user(request)))


@extend_schema(tags=["cart"])
@extend_validation_errors([ProductUnavailable.code], field_name="product_id", methods=["post"])
class CartItemCreateApi(APIView):
    @extend_schema(request=CartItemInputSerializer, responses={201: CartOutputSerializer})
    def post(self, request: Request) -> Response:
        """Put a product in the cart (a product already there gets the quantity added)."""
        serializer = CartItemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = cart_item_add(customer=request_user(request), **serializer.validated_data)
        return cart_response(cart, status.HTTP_201_CREATED)


@extend_schema(tags=["cart"])
class CartItemDetailApi(APIView):
    @extend_schema(request=CartItemUpdateSerializer, responses={200: CartOutputSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        """Change the quantity of an item in your cart."""
        serializer = CartItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return cart_response(
            cart_item_update(customer=request_user(request), item_id=pk, **serializer.validated_data)
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Take an item out of your cart."""
        cart_item_remove(customer=request_user(request), item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["cart"])
@extend_validation_errors(
    [DuplicateProduct.code, ProductUnavailable.code], field_name="items.INDEX.product_id", methods=["post"]
)
@extend_validation_errors([MixedCurrencies.code, EmptyOrder.code], field_name="items", methods=["post"])
@extend_validation_errors(["max_length"], field_name="idempotency_key", methods=["post"])
class CartCheckoutApi(APIView):
    @extend_schema(
        request=None, parameters=[IDEMPOTENCY_KEY], responses={201: OrderOutputSerializer, 409: CONFLICT}
    )
    def post(self, request: Request) -> Response:
        """Place your cart as an order (the same stock and price rules as POST /orders/) and empty it."""
        order = cart_checkout(customer=request_user(request), idempotency_key=idempotency_key(request))
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["payments"])
@extend_validation_errors(
    [e.code for e in (InvalidSignature, SignatureMissing, SignatureMalformed, TimestampOutOfTolerance)],
    field_name=SIGNATURE_HEADER,
    methods=["post"],
)
@extend_validation_errors([UnknownPaymentReference.code], field_name="payment_reference", methods=["post"])
class PaymentCallbackApi(APIView):
    """Payment provider callback (webhook), signed like Stripe's events.

    `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the shared secret>`;
    several `v1` values may be sent while secrets rotate. The timestamp must be within
    300 seconds of the server's clock. A valid callback is stored and answered 202 at once,
    before it is applied; the same `event_id` again is answered 200 as a duplicate.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="payments_callback",
        request=PaymentCallbackInputSerializer,
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                location=OpenApiParameter.HEADER,
                required=True,
                description='t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
            )
        ],
        responses={
            202: OpenApiResponse(PaymentCallbackReceiptSerializer, description="Stored; processed shortly."),
            200: OpenApiResponse(
                PaymentCallbackReceiptSerializer, description="This event_id was seen before."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        # The signature covers the raw bytes: verify them before parsing anything.
        raw_body = request.body
        payment_callback_verify(raw_body=raw_body, signature=request.headers.get(SIGNATURE_HEADER))
        serializer = PaymentCallbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receipt = payment_callback_receive(data=CallbackData(**serializer.validated_data), raw_body=raw_body)
        callback = receipt.callback
        body = {
            "status": "duplicate" if receipt.duplicate else "accepted",
            "event_id": callback.event_id,
            "callback_id": callback.pk,
            "state": callback.state,
            "task_id": callback.task_id,
            "status_url": reverse("task-status", kwargs={"task_id": callback.task_id}),
        }
        return Response(
            PaymentCallbackReceiptSerializer(body).data,
            status=status.HTTP_200_OK if receipt.duplicate else status.HTTP_202_ACCEPTED,
        )
