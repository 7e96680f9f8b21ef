from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"


class Event(models.TextChoices):
    ORDER_CONFIRMATION = "order_confirmation", "Order confirmation (customer)"
    SELLER_NEW_ORDER = "seller_new_order", "New order (seller)"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled (customer)"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One message to one recipient over one channel, and what became of it."""

    event = models.CharField(max_length=40, choices=Event.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=254, help_text="E-mail address or chat id, by channel.")
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
    task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("status", "created_at")),
            models.Index(fields=("user", "-created_at")),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient} ({self.status})"
