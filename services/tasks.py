"""Tasks whose ids the API hands out, and who may follow them."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from messaging.models import TrackedTask


def task_track(*, task_id: str, requested_by: User | None = None) -> None:
    """Let `requested_by` (and staff) follow `task_id`; with no requester, staff only.

    Call it in the transaction that enqueues the task, so the two exist together.
    """
    TrackedTask.objects.create(task_id=task_id, requested_by=requested_by)


def tracked_tasks_prune(*, older_than: timedelta) -> int:
    """Forget tasks handed out longer ago than `older_than` (their results are gone too)."""
    deleted, _ = TrackedTask.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
