"""The single door through which services start asynchronous work.

`enqueue` is called inside the service's transaction and publishes the task only
after that transaction commits, so a rolled-back write never starts a task and
a worker never sees a row that does not exist yet. The queue a task goes to is
decided by the router in pro_platform/celery.py, never here; a caller may only
raise or lower the message's priority (the notification event table does).
"""

import logging
import uuid
from functools import partial
from typing import Any

from django.db import transaction

from pro_platform.celery import app

logger = logging.getLogger(__name__)

JsonKwargs = dict[str, str | int | float | bool | None]


def new_task_id() -> str:
    return str(uuid.uuid4())


def enqueue(
    task_name: str,
    *,
    kwargs: JsonKwargs,
    task_id: str | None = None,
    priority: int | None = None,
    countdown: float | None = None,
) -> str:
    """Publish `task_name(**kwargs)` when the current transaction commits; return the task id."""
    task_id = task_id or new_task_id()
    options: dict[str, Any] = {"task_id": task_id}
    if priority is not None:
        options["priority"] = priority
    if countdown is not None:
        options["countdown"] = countdown
    transaction.on_commit(partial(_publish, task_name, kwargs, options))
    return task_id


def _publish(task_name: str, kwargs: JsonKwargs, options: dict[str, Any]) -> None:
    # The rows are committed whatever happens here; a publish that fails is logged
    # and the row stays pending for a sweeper to re-publish, the request still succeeds.
    try:
        app.send_task(task_name, kwargs=kwargs, **options)
    except Exception:
        logger.exception("could not publish %s %s %s; it stays pending", task_name, kwargs, options)
