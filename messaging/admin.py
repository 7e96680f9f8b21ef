from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from services.dead_letters import dead_letter_replay
from services.exceptions import Conflict

from .models import DeadLetter, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "task_name",
        "task_id",
        "priority",
        "retries",
        "created_at",
        "available_at",
        "published_at",
        "attempts",
        "request_id",
    )
    list_filter = ("task_name",)
    search_fields = ("task_id", "task_name", "=request_id")
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("open", "Not replayed"), ("replayed", "Replayed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> QuerySet[DeadLetter]:
        if self.value() in ("open", "replayed"):
            return queryset.filter(replayed_at__isnull=self.value() == "open")
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "source", "task_name", "queue", "reason", "retries", "replayed_at")
    list_filter = (OpenFilter, "source", "task_name", "queue")
    search_fields = ("task_id", "task_name", "reason", "=request_id")
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
    actions = ("replay",)
    date_hierarchy = "created_at"

    @admin.action(description="Replay the selected dead letters (publish the task again)")
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        replayed, refused = 0, []
        for dead_letter_id in queryset.values_list("id", flat=True):
            try:
                dead_letter_replay(dead_letter_id=dead_letter_id)
                replayed += 1
            except Conflict as error:
                refused.append(f"#{dead_letter_id}: {error.message}")
        self.message_user(request, f"{replayed} dead letter(s) published again.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not replayed: " + " ".join(refused), messages.WARNING)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
