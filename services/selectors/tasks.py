from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.result import AsyncResult

from pro_platform.celery import app


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: str
    result: Any
    error: str | None
    date_done: datetime | None
    progress: dict[str, int] | None


def task_status_get(*, task_id: str) -> TaskStatus:
    """What the result backend knows of a task; an unknown id is PENDING, as in Celery."""
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
