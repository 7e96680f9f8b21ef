"""The single door through which services start asynchronous work.

`enqueue` is called inside the service's transaction and publishes the task only
after that transaction commits, so a rolled-back write never starts a task and
a worker never sees a row that does not exist yet. Which queue and priority a
task gets is decided by the routes in pro_platform/celery.py, never here.
"""

import logging
import uuid
from functools import partial

from django.db import transaction

from pro_platform.celery import app

logger = logging.getLogger(__name__)

JsonKwargs = dict[str, str | int | float | bool | None]


def new_task_id() -> str:
    return str(uuid.uuid4())


def enqueue(task_name: str, *, kwargs: JsonKwargs, task_id: str | None = None) -> str:
    """Publish `task_name(**kwargs)` when the current transaction commits; return the task id."""
    task_id = task_id or new_task_id()
    transaction.on_commit(partial(_publish, task_name, kwargs, task_id))
    return task_id


def _publish(task_name: str, kwargs: JsonKwargs, task_id: str) -> None:
    # The rows are committed whatever happens here; a publish that fails is logged
    # and the row stays pending for a sweeper to re-publish, the request still succeeds.
    try:
        app.send_task(task_name, kwargs=kwargs, task_id=task_id)
    except Exception:
        logger.exception("could not publish %s[%s] %s; it stays pending", task_name, task_id, kwargs)
