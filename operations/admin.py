from django.contrib import admin

from .models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """Read-only: which relay and beat processes are alive, and which beat schedules."""

    list_display = ("role", "hostname", "active", "seen_at")
    list_filter = ("role", "active")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
