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


class OrderEventSerializer(serializers.ModelSerializer):
    """One asynchronous side effect of an order (notifications now; payment callbacks later)."""

    kind = serializers.SerializerMethodField()
    state = serializers.CharField(source="status")

    class Meta:
        model = Notification
        fields = (
            "kind",
            "id",
            "event",
            "audience",
            "channel",
            "state",
            "attempts",
            "last_error",
            "next_retry_at",
            "created_at",
            "sent_at",
        )

    def get_kind(self, obj: Notification) -> str:
        return "notification"
