from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    TELEGRAM = "telegram", "Telegram"


class Event(models.TextChoices):
    ORDER_CREATED = "order_created", "Order created"
    ORDER_PAID = "order_paid", "Order paid"
    ORDER_PAYMENT_FAILED = "order_payment_failed", "Payment failed"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled"
    ORDER_SHIPPED = "order_shipped", "Order shipped"
    ORDER_DELIVERED = "order_delivered", "Order delivered"
    DELIVERY_FAILED = "delivery_failed", "A notification could not be delivered"
    DELIVERY_FAILURES = "delivery_failures", "Several notifications could not be delivered"
    PAYMENT_FLAGGED = "payment_flagged", "A payment needs a person"
    REVIEW_REMINDER = "review_reminder", "Review reminder"
    DAILY_REPORT = "daily_report", "Daily report"


class Audience(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SELLER = "seller", "Seller"
    MANAGERS = "managers", "Managers"
    ADMINS = "admins", "Administrators"
    STAFF = "staff", "Staff"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One message to one recipient over one channel, and what became of it."""

    event = models.CharField(max_length=40, choices=Event.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=254, help_text="E-mail address or Telegram chat id, by channel.")
    priority = models.PositiveSmallIntegerField(help_text="RabbitMQ message priority (higher first).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When administrators were told this notification failed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("status", "created_at")),
            models.Index(fields=("user", "-created_at")),
            models.Index(fields=("status", "alerted_at")),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.audience} by {self.channel} ({self.status})"


class RateLimitSlot(models.Model):
    """The next free send time of one rate-limited stream (a Telegram chat, or the bot overall).

    Workers in any process reserve slots here in short transactions, so the limits
    hold across the whole fleet.
    """

    key = models.CharField(max_length=100, primary_key=True)
    next_free_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} free at {self.next_free_at:%H:%M:%S.%f}"
