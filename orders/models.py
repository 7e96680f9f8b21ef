import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models

# The bounds of an order, chosen so that every total fits its column (numeric(14, 2)):
# MAX_ORDER_LINES x MAX_LINE_QUANTITY x MAX_PRICE < 10**11.
MAX_PRICE = Decimal("999999.99")
MAX_LINE_QUANTITY = 1000
MAX_ORDER_LINES = 100
MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    UAH = "UAH", "Ukrainian hryvnia"


class Seller(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    telegram_chat_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet["Product"]):
    def take_stock(self, quantities: dict[int, int]) -> None:
        """Subtract each quantity from its product's stock (product id -> quantity), in one
        statement. The caller has locked the rows and checked the stock (services.orders);
        the check constraint stops a negative stock all the same."""
        with connection.cursor() as cursor:  # SQL: bulk_update's CASE cost 0.5 ms an order
            cursor.execute(
                f"UPDATE {Product._meta.db_table} AS product SET stock = product.stock - taken.quantity"
                " FROM unnest(%s::bigint[], %s::integer[]) AS taken(id, quantity)"
                " WHERE product.id = taken.id",
                [list(quantities), list(quantities.values())],
            )


class Product(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, unique=True)
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_PRICE)],
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive"),
        ]
        indexes = [models.Index(fields=("is_active", "price"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    PAYMENT_FAILED = "payment_failed", "Payment failed"


# The order life cycle: every status change must be one of these edges.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED}
    ),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.PAYMENT_FAILED: frozenset(),
}


class Order(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    review_reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer was asked to review it (once)."
    )

    lines: list["OrderItem"]  # its items with their products, for its representation (order_list)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("customer", "-created_at")),
            models.Index(fields=("status", "created_at")),
            models.Index(fields=("status", "delivered_at")),
        ]

    def __str__(self) -> str:
        return f"order #{self.pk} ({self.status})"

    def can_become(self, status: str) -> bool:
        return status in ORDER_TRANSITIONS[self.status]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("order", "product"), name="order_item_unique_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} in order {self.order_id}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


def new_payment_reference() -> str:
    return f"pay_{secrets.token_hex(12)}"


class OrderPaymentDetails(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    reference = models.CharField(max_length=64, unique=True, default=new_payment_reference, editable=False)
    provider_data = models.JSONField(default=dict, blank=True, help_text="What the provider reported.")
    paid_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(
        default=False, help_text="Needs a person: the provider reported something odd."
    )
    flag_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "order payment details"

    def __str__(self) -> str:
        return f"payment {self.reference} for order {self.order_id}"


class CallbackStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CallbackState(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    APPLIED = "applied", "Applied to the order"
    IGNORED = "ignored", "Not applied (see result)"
    FLAGGED = "flagged", "Not applied; staff alerted (see result)"


class PaymentCallback(models.Model):
    """The inbox of provider callbacks: each event once, with what became of it."""

    event_id = models.CharField(max_length=100, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payment_callbacks")
    payment_reference = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=CallbackStatus.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    failure_reason = models.TextField(blank=True)
    raw_body = models.TextField(help_text="The signed body, byte for byte (UTF-8).")
    state = models.CharField(max_length=20, choices=CallbackState.choices, default=CallbackState.RECEIVED)
    result = models.TextField(blank=True, help_text="Why it was or was not applied.")
    task_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = [
            models.Index(fields=("order", "received_at")),
            models.Index(fields=("state", "received_at")),
        ]

    def __str__(self) -> str:
        return f"callback {self.event_id} ({self.status}, {self.state})"


class Cart(models.Model):
    """A customer's basket: products and quantities, priced and checked only at checkout."""

    customer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, help_text="Last touched.")

    def __str__(self) -> str:
        return f"cart of {self.customer_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="cart_items")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("cart", "product"), name="cart_item_unique_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} in cart {self.cart_id}"

    @property
    def line_total(self) -> Decimal:
        """At the product's price today."""
        return self.product.price * self.quantity


class Review(models.Model):
    """A customer's rating of a product they received; one per product and customer."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("customer", "product"), name="review_one_per_customer_product"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=("product", "-created_at"))]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.product_id} by {self.customer_id}"


class IdempotencyRecord(models.Model):
    """A request sent with an Idempotency-Key, and the answer its retries get (Stripe's semantics).

    Keys are the customer's own: one key, one operation, one request (its fingerprint).
    Written in the same transaction as the request's effect, so it exists exactly when
    the effect does; a request that failed leaves no record and may be sent again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=100, help_text="Method and route, e.g. POST /api/v1/orders/.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's parameters.")
    status = models.PositiveSmallIntegerField(null=True, help_text="The answer's status code.")
    body = models.JSONField(null=True, help_text="The answer's body, replayed as it was.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("user", "key"), name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.operation} with key {self.key!r}"
