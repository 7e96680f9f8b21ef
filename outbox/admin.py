from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "task_name", "task_id", "priority", "created_at", "published_at", "attempts")
    list_filter = ("task_name",)
    search_fields = ("task_id", "task_name")
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
