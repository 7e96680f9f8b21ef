from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from services.notifications.fanout import NotificationNotFailed, notification_resend

from .models import Notification, NotificationStatus


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event",
        "audience",
        "channel",
        "recipient",
        "status",
        "attempts",
        "priority",
        "next_retry_at",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "event", "audience")
    search_fields = ("recipient", "order__id", "task_id", "last_error")
    raw_id_fields = ("user", "order")
    readonly_fields = (
        "event",
        "audience",
        "channel",
        "recipient",
        "priority",
        "payload",
        "status",
        "attempts",
        "last_error",
        "next_retry_at",
        "task_id",
        "alerted_at",
        "created_at",
        "updated_at",
        "sent_at",
    )
    actions = ("resend",)
    date_hierarchy = "created_at"

    @admin.action(description="Resend the selected failed notifications")
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        resent = skipped = 0
        for notification_id in queryset.values_list("id", flat=True):
            try:
                notification_resend(notification_id=notification_id)
                resent += 1
            except NotificationNotFailed:
                skipped += 1
        self.message_user(request, f"{resent} notification(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: only {NotificationStatus.FAILED.label.lower()} ones are resent.",
                messages.WARNING,
            )
