from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from pro_platform.idempotency import IDEMPOTENCY_KEY, REPLAYED, idempotent
from pro_platform.openapi import error_response_serializer, error_responses
from pro_platform.responses import ACCEPTED_HEADERS, accepted, task_status_url
from services.carts import (
    CartEmpty,
    CartFull,
    CartQuantityLimit,
    cart_checkout,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
)
from services.exceptions import (
    DuplicateProduct,
    IdempotencyKeyReused,
    InvalidTransition,
    MixedCurrencies,
    NotFound,
    OutOfStock,
    ProductUnavailable,
)
from services.idempotency import Answer
from services.orders import OrderLine, order_cancel, order_create, order_deliver, order_ship
from services.payments import CallbackData, UnknownPaymentReference, payment_callback_receive
from services.products import product_create, product_update
from services.reviews import AlreadyReviewed, OrderNotDelivered, ProductNotInOrder, review_create
from services.selectors.carts import cart_get
from services.selectors.orders import order_get, order_list
from services.selectors.products import product_get, product_list, review_list

from .authentication import SIGNATURE_ERROR_CODES, IsPaymentProvider, PaymentSignatureAuthentication
from .filters import OrderFilter, ProductFilter
from .models import Order, Product, Review
from .permissions import IsStaffOrReadOnly
from .serializers import (
    CartItemUpdateSerializer,
    CartOutputSerializer,
    OrderCreateInputSerializer,
    OrderLineInputSerializer,
    OrderOutputSerializer,
    PaymentCallbackInputSerializer,
    PaymentCallbackReceiptSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
    PublicReviewSerializer,
    ReviewInputSerializer,
    ReviewOutputSerializer,
)

NOT_FOUND = error_responses(not_found=[NotFound.code])
TRANSITION = error_responses(not_found=[NotFound.code], conflict=[InvalidTransition.code])
ORDER_PLACING = error_responses(conflict=[OutOfStock.code, IdempotencyKeyReused.code])


def order_placed(order: Order) -> Answer:
    return Answer(status.HTTP_201_CREATED, OrderOutputSerializer(order).data)


@extend_schema(tags=["products"])
class ProductListCreateApi(generics.ListAPIView):
    """List the catalogue.

    Products for sale (staff also see inactive ones), with their seller, average rating and
    review count; searchable by name, SKU and seller, filterable by seller, price and currency.
    """

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
        """Add a product (staff).

        `currency` defaults to USD and `stock` to 0; the SKU must be new.
        """
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return Response(
            ProductOutputSerializer(product_get(product_id=product.pk)).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["products"])
class ProductDetailApi(generics.RetrieveAPIView):
    """Show one product.

    A product for sale, with its seller, average rating and review count (staff also see
    inactive ones).
    """

    permission_classes = (IsStaffOrReadOnly,)
    serializer_class = ProductOutputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_list(include_inactive=bool(self.request.user and self.request.user.is_staff))

    @extend_schema(responses={200: ProductOutputSerializer, **NOT_FOUND})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ProductInputSerializer, responses={200: ProductOutputSerializer, **NOT_FOUND})
    def patch(self, request: Request, pk: int) -> Response:
        """Change a product (staff).

        Only the fields sent change; a price change applies to orders placed from now on.
        """
        product = self.get_object()
        serializer = ProductInputSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product_update(product_id=product.pk, data=serializer.validated_data)
        return Response(ProductOutputSerializer(product_get(product_id=product.pk)).data)


@extend_schema(tags=["orders"])
@extend_validation_errors(
    [DuplicateProduct.code, ProductUnavailable.code], field_name="items.INDEX.product_id", methods=["post"]
)
@extend_validation_errors([MixedCurrencies.code], field_name="items", methods=["post"])
@extend_validation_errors(["null"], field_name="items.INDEX", methods=["post"])
@extend_validation_errors(["max_length"], field_name="idempotency_key", methods=["post"])
class OrderListCreateApi(generics.ListAPIView):
    """List your orders.

    Your own orders, newest first, with their items and payment; filter by `status`,
    search by product name or SKU.
    """

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
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
        responses={201: OrderOutputSerializer, **ORDER_PLACING},
    )
    def post(self, request: Request) -> Response:
        """Place an order.

        Stock is reserved at once, all items or none; the order waits for its payment
        (`payment.reference`). The confirmation e-mail and the sellers' notices follow
        asynchronously. Send an `Idempotency-Key` to retry safely.
        """
        serializer = OrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["items"]

        def place() -> Answer:
            lines = [OrderLine(**line) for line in items]
            return order_placed(order_create(customer=request_user(request), items=lines))

        return idempotent(request, items, place)


@extend_schema(tags=["orders"])
class OrderDetailApi(generics.RetrieveAPIView):
    """Show one of your orders.

    Its items, total, status and payment; another customer's order is not found.
    """

    serializer_class = OrderOutputSerializer

    def get_object(self) -> Order:
        return order_get(user=request_user(self.request), order_id=self.kwargs["pk"])

    @extend_schema(responses={200: OrderOutputSerializer, **NOT_FOUND})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["orders"])
class OrderCancelApi(generics.GenericAPIView):
    serializer_class = OrderOutputSerializer

    @extend_schema(
        operation_id="orders_cancel", request=None, responses={200: OrderOutputSerializer, **TRANSITION}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Cancel one of your orders.

        Only while it is pending payment or paid (409 invalid_transition otherwise); its
        items go back in stock and you and the sellers are told.
        """
        order = order_cancel(order_id=pk, customer=request_user(request))
        return Response(OrderOutputSerializer(order).data)


class StaffOrderTransitionApi(generics.GenericAPIView):
    """Staff move an order along (subclasses name the service)."""

    permission_classes = (IsAdminUser,)
    serializer_class = OrderOutputSerializer
    transition: Callable[..., Order]

    @extend_schema(request=None, responses={200: OrderOutputSerializer, **TRANSITION})
    def post(self, request: Request, pk: int) -> Response:
        return Response(OrderOutputSerializer(self.transition(order_id=pk)).data)


@extend_schema(tags=["orders"])
@extend_schema_view(post=extend_schema(operation_id="orders_ship"))
class OrderShipApi(StaffOrderTransitionApi):
    """Ship an order (staff).

    A paid order leaves the warehouse (409 invalid_transition from any other status);
    the customer is told.
    """

    transition = staticmethod(order_ship)


@extend_schema(tags=["orders"])
@extend_schema_view(post=extend_schema(operation_id="orders_deliver"))
class OrderDeliverApi(StaffOrderTransitionApi):
    """Mark an order delivered (staff).

    A shipped order reached the customer (409 invalid_transition otherwise); the customer
    may now review its products and is reminded to later.
    """

    transition = staticmethod(order_deliver)


@extend_schema(tags=["reviews"])
@extend_validation_errors([ProductNotInOrder.code], field_name="product_id", methods=["post"])
class OrderReviewCreateApi(APIView):
    @extend_schema(
        operation_id="orders_review",
        request=ReviewInputSerializer,
        responses={
            201: ReviewOutputSerializer,
            **error_responses(
                not_found=[NotFound.code], conflict=[OrderNotDelivered.code, AlreadyReviewed.code]
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Review a product of your order.

        Rate a product of your delivered order from 1 to 5, with an optional text; once per
        product (409 already_reviewed), and only after delivery (409 order_not_delivered).
        """
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = review_create(customer=request_user(request), order_id=pk, **serializer.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"])
class ProductReviewListApi(generics.ListAPIView):
    """List a product's reviews.

    Rating, text and date of each review of a product for sale, newest first; anyone may read them.
    """

    permission_classes = (AllowAny,)
    serializer_class = PublicReviewSerializer
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Review]:
        return review_list(product_id=self.kwargs["pk"])

    @extend_schema(responses={200: PublicReviewSerializer(many=True), **NOT_FOUND})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Cart --------------------------------------------------------------------------------------


def cart_response(customer_cart: object, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(customer_cart).data, status=status_code)


@extend_schema(tags=["cart"])
class CartApi(APIView):
    @extend_schema(responses={200: CartOutputSerializer})
    def get(self, request: Request) -> Response:
        """Show your cart.

        Its items at today's prices, whether each is available in that quantity now, and
        the totals per currency.
        """
        return cart_response(cart_get(customer=request_user(request)))


@extend_schema(tags=["cart"])
@extend_validation_errors([ProductUnavailable.code], field_name="product_id", methods=["post"])
class CartItemCreateApi(APIView):
    @extend_schema(
        request=OrderLineInputSerializer,
        responses={
            201: CartOutputSerializer,
            **error_responses(conflict=[CartFull.code, CartQuantityLimit.code]),
        },
    )
    def post(self, request: Request) -> Response:
        """Put a product in your cart.

        A product already there gets the quantity added. Stock is not reserved until checkout.
        A cart holds what an order may: 100 products (409 cart_full), 1000 of each
        (409 cart_quantity_limit).
        """
        serializer = OrderLineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = cart_item_add(customer=request_user(request), **serializer.validated_data)
        return cart_response(cart, status.HTTP_201_CREATED)


@extend_schema(tags=["cart"])
class CartItemDetailApi(APIView):
    @extend_schema(request=CartItemUpdateSerializer, responses={200: CartOutputSerializer, **NOT_FOUND})
    def patch(self, request: Request, pk: int) -> Response:
        """Change a cart item's quantity.

        Sets the quantity of one item of your cart (another customer's item is not found);
        an empty body changes nothing.
        """
        serializer = CartItemUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return cart_response(
            cart_item_update(customer=request_user(request), item_id=pk, **serializer.validated_data)
        )

    @extend_schema(request=None, responses={204: None, **NOT_FOUND})
    def delete(self, request: Request, pk: int) -> Response:
        """Take an item out of your cart.

        The item is gone at once; the answer has no body.
        """
        cart_item_remove(customer=request_user(request), item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["cart"])
@extend_validation_errors(
    [DuplicateProduct.code, ProductUnavailable.code], field_name="items.INDEX.product_id", methods=["post"]
)
@extend_validation_errors([MixedCurrencies.code], field_name="items", methods=["post"])
@extend_validation_errors(["max_length"], field_name="idempotency_key", methods=["post"])
class CartCheckoutApi(APIView):
    @extend_schema(
        operation_id="cart_checkout",
        request=None,
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
        responses={
            201: OrderOutputSerializer,
            **error_responses(conflict=[CartEmpty.code, OutOfStock.code, IdempotencyKeyReused.code]),
        },
    )
    def post(self, request: Request) -> Response:
        """Place your cart as an order.

        The same stock, price and error rules as placing an order; the cart is emptied in
        the same transaction (409 cart_empty when there is nothing in it). Send an
        `Idempotency-Key` to retry safely.
        """
        return idempotent(request, {}, lambda: order_placed(cart_checkout(customer=request_user(request))))


@extend_schema(tags=["payments"])
@extend_validation_errors([UnknownPaymentReference.code], field_name="payment_reference", methods=["post"])
class PaymentCallbackApi(APIView):
    """Receive a payment callback (the payment provider).

    Signed like Stripe's events, in the `X-Signature` header:
    `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the shared secret>`;
    several `v1` values may be sent while secrets rotate, and the timestamp must be within
    300 seconds of the server's clock. A missing, malformed, stale or wrong signature is
    401 and stores nothing. A valid callback is stored and answered 202 at once, before it
    is applied (its task answers staff at `Location`); the same `event_id` again is 200.
    """

    authentication_classes = (PaymentSignatureAuthentication,)
    permission_classes = (IsPaymentProvider,)

    @extend_schema(
        operation_id="payments_callback",
        request=PaymentCallbackInputSerializer,
        parameters=ACCEPTED_HEADERS,
        responses={
            202: OpenApiResponse(PaymentCallbackReceiptSerializer, description="Stored; processed shortly."),
            200: OpenApiResponse(
                PaymentCallbackReceiptSerializer, description="This event_id was seen before."
            ),
            401: OpenApiResponse(
                error_response_serializer(401, SIGNATURE_ERROR_CODES, "PaymentSignature"),
                description="The signature is missing, malformed, stale or wrong.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        # The signature on the raw bytes was verified (authentication) before anything was parsed.
        serializer = PaymentCallbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receipt = payment_callback_receive(
            data=CallbackData(**serializer.validated_data), raw_body=request.body
        )
        callback = receipt.callback
        body = PaymentCallbackReceiptSerializer(
            {
                "status": "duplicate" if receipt.duplicate else "accepted",
                "event_id": callback.event_id,
                "callback_id": callback.pk,
                "state": callback.state,
                "task_id": callback.task_id,
                "status_url": task_status_url(callback.task_id),
            }
        ).data
        if receipt.duplicate:
            return Response(body, status=status.HTTP_200_OK)
        return accepted(body, task_id=callback.task_id)
