"""What one request (or one periodic run) caused: every task it enqueued, and how each ended.

Read from the outbox (each message keeps its request id, for OUTBOX_RETENTION_HOURS),
the result backend (each task's state) and the dead letters (each final failure).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django_celery_results.models import TaskResult

from messaging.models import DeadLetter, OutboxMessage
from messaging.routing import route_task
from services.exceptions import NotFound


class RequestNotFound(NotFound):
    code = "request_not_found"
    message = "No task is known to have been caused by this request id."


@dataclass(frozen=True)
class TracedTask:
    task_id: str
    task_name: str
    queue: str
    state: str
    retries: int
    enqueued_at: datetime | None
    published_at: datetime | None
    date_done: datetime | None
    error: str | None
    dead_letter_id: int | None


def request_trace_get(*, request_id: str) -> list[TracedTask]:
    """The tasks of `request_id` in the order they were enqueued (a retry is the same task)."""
    messages = list(OutboxMessage.objects.filter(request_id=request_id).order_by("id"))
    dead_letters = {d.task_id: d for d in DeadLetter.objects.filter(request_id=request_id).order_by("id")}
    names = {m.task_id: m.task_name for m in messages} | {
        task_id: d.task_name
        for task_id, d in dead_letters.items()
        if task_id not in {m.task_id for m in messages}
    }
    if not names:
        raise RequestNotFound()
    results = {r.task_id: r for r in TaskResult.objects.filter(task_id__in=names)}
    return [
        _traced(
            task_id, name, [m for m in messages if m.task_id == task_id], results.get(task_id), dead_letters
        )
        for task_id, name in names.items()
    ]


def _traced(
    task_id: str,
    task_name: str,
    runs: list[OutboxMessage],
    result: TaskResult | None,
    dead_letters: dict[str, DeadLetter],
) -> TracedTask:
    dead_letter = dead_letters.get(task_id)
    published = [m.published_at for m in runs if m.published_at]
    return TracedTask(
        task_id=task_id,
        task_name=task_name,
        queue=route_task(task_name, (), {}, {})["queue"],
        state=result.status if result else "PENDING",
        retries=max((m.retries for m in runs), default=dead_letter.retries if dead_letter else 0),
        enqueued_at=runs[0].created_at if runs else None,
        published_at=max(published, default=None),
        date_done=result.date_done if result and result.status in ("SUCCESS", "FAILURE") else None,
        error=dead_letter.reason if dead_letter else _error_of(result),
        dead_letter_id=dead_letter.pk if dead_letter else None,
    )


def _error_of(result: TaskResult | None) -> str | None:
    if result is None or result.status not in ("FAILURE", "RETRY"):
        return None
    try:
        error = json.loads(result.result or "{}")
    except ValueError:
        return None
    return (
        f"{error.get('exc_type', 'error')}: {error.get('exc_message')}" if isinstance(error, dict) else None
    )
