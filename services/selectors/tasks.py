from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.result import AsyncResult
from django_celery_results.models import TaskResult

from accounts.models import User
from messaging.models import OutboxMessage, TrackedTask
from pro_platform.celery import app
from services.exceptions import NotFound


class TaskNotFound(NotFound):
    code = "task_not_found"
    message = "No such task (or not yours to follow)."


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: str
    result: Any
    error: str | None
    date_done: datetime | None
    progress: dict[str, int] | None


def task_status_get(*, task_id: str, viewer: User) -> TaskStatus:
    """What the result backend knows of a task, for the user whose request caused it or staff.

    A customer follows the tasks whose ids were handed out to them; staff follow any task
    the platform knows of (handed out, in the outbox, or with a stored state). Any other
    id is TaskNotFound: Celery itself would call it PENDING, and a client could not tell
    a typo from a queued task.
    """
    if not _may_follow(viewer, task_id):
        raise TaskNotFound()
    result: AsyncResult = AsyncResult(task_id, app=app)
    state = result.state
    failed = state in {"FAILURE", "RETRY"}
    info = result.info
    return TaskStatus(
        task_id=task_id,
        state=state,
        result=None if failed or state != "SUCCESS" else info,
        error=f"{type(info).__name__}: {info}" if failed and info is not None else None,
        date_done=result.date_done,
        progress=_progress(state, info),
    )


def _progress(state: str, info: Any) -> dict[str, int] | None:
    """What a long task reported of itself while running (`update_state` with done and total)."""
    if state == "STARTED" and isinstance(info, dict) and {"done", "total"} <= info.keys():
        return {"done": int(info["done"]), "total": int(info["total"])}
    return None


def _may_follow(viewer: User, task_id: str) -> bool:
    if not viewer.is_staff:
        return TrackedTask.objects.filter(task_id=task_id, requested_by=viewer).exists()
    return any(
        model.objects.filter(task_id=task_id).exists() for model in (TrackedTask, OutboxMessage, TaskResult)
    )
