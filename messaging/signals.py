"""Celery signal receivers, connected when Django loads the messaging app (in every process;
they act only in workers, where the signals are sent)."""

import logging
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, worker_init
from django.db import close_old_connections, connection

from messaging.dead_letters import dead_letter_record_failure
from pro_platform.preflight import check_broker, check_database

logger = logging.getLogger(__name__)


@task_failure.connect
def record_dead_letter(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    kwargs: Any = None,
    einfo: Any = None,
    **extra: Any,
) -> None:
    """A task that failed for good (retries spent, an error nobody retries, a time limit)."""
    dead_letter_record_failure(
        task_name=getattr(sender, "name", str(sender)),
        task_id=task_id or "",
        kwargs=kwargs,
        exception=exception,
        traceback=str(einfo or ""),
        retries=getattr(getattr(sender, "request", None), "retries", 0) or 0,
        queue=(getattr(getattr(sender, "request", None), "delivery_info", None) or {}).get("routing_key", ""),
    )


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**kwargs: Any) -> None:
    """Around each task what Django does around each request: close a connection that is
    broken or older than CONN_MAX_AGE (settings: CELERY_DB_REUSE_MAX)."""
    close_old_connections()


@worker_init.connect
def report_unreachable_services(**kwargs: Any) -> None:
    """Say in one line what is missing; Celery itself keeps retrying the broker."""
    for problem in filter(None, (check_database(), check_broker())):
        logger.error(problem)
    connection.close()  # not to be shared with the forked pool processes
