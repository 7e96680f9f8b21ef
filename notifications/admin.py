from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "channel", "recipient", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "event")
    search_fields = ("recipient", "order__id", "task_id")
    raw_id_fields = ("user", "order")
    readonly_fields = ("task_id", "attempts", "last_error", "created_at", "updated_at", "sent_at")
