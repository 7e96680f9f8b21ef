from rest_framework import serializers

from .models import Notification


class NotificationOutputSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Notification
        fields = (
            "id",
            "event",
            "audience",
            "channel",
            "recipient",
            "status",
            "attempts",
            "last_error",
            "next_retry_at",
            "order_id",
            "created_at",
            "sent_at",
        )


class TimelineEntrySerializer(serializers.Serializer):
    """One asynchronous side effect of an order: a notification or a payment callback."""

    kind = serializers.ChoiceField(choices=["notification", "payment_callback"])
    id = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="When it was created (notification) or received (callback).")
    event = serializers.CharField()
    state = serializers.CharField(help_text="pending/sent/failed, or received/applied/ignored/flagged.")
    detail = serializers.CharField(help_text="Last delivery error, or why a callback was (not) applied.")
    channel = serializers.CharField(allow_null=True)
    audience = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField(allow_null=True)
    next_retry_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True, help_text="Sent, or processed.")
