"""Request ids, end to end: one id follows everything an HTTP request (or a periodic run) causes.

- The web binds the request's id (`request_id_of`: the client's X-Request-ID when sane,
  else a new one) for every log line of the request; pro_platform/middleware.py puts it
  on every answer.
- `messaging.outbox.enqueue` stores the current id with each outbox message, and both
  publishing paths put it in the Celery message's `request_id` header.
- A worker binds the header's id, the task id and the task name for every log line of
  the task; what the task enqueues (retries, alerts, follow-up tasks) inherits the id.
  A message without one (a periodic task from beat) starts a new id: one per run.
- Staff look up what an id caused: `GET /api/v1/requests/{request_id}/`.

The id lives in structlog's context variables, so logging, the outbox and error
tracking read the same value.
"""

import re
import uuid
from typing import Any

import structlog
from celery.signals import before_task_publish
from django.dispatch import receiver
from django.http import HttpRequest
from django_structlog.celery.signals import bind_extra_task_metadata
from django_structlog.signals import bind_extra_request_metadata

HEADER = "request_id"  # of the Celery message
HTTP_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = r"[A-Za-z0-9._:-]{1,128}"
SANE_REQUEST_ID = re.compile(f"^{REQUEST_ID_PATTERN}$")  # anchored: the schema's pattern too


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(request: HttpRequest) -> str:
    """The client's X-Request-ID when it is sane, else a new one; the same for the whole request."""
    if not hasattr(request, "request_id"):
        offered = request.headers.get(HTTP_HEADER, "")
        request.request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else new_request_id()  # type: ignore[attr-defined]
    return request.request_id  # type: ignore[attr-defined]


def current_request_id() -> str:
    """The id of the request or task this code runs for; empty outside of both."""
    return str(structlog.contextvars.get_contextvars().get("request_id", ""))


def bind_request_id(request_id: str) -> None:
    structlog.contextvars.bind_contextvars(request_id=request_id)


@receiver(bind_extra_request_metadata)
def bind_the_requests_id(request: HttpRequest, **kwargs: Any) -> None:
    """django-structlog made up an id of its own; the request's is the one its answer carries."""
    bind_request_id(request_id_of(request))


@receiver(bind_extra_task_metadata)
def bind_the_tasks_ids(task: Any, **kwargs: Any) -> None:
    """Inside a task: the id of the request that caused it (a new one for a periodic run), and its name."""
    request_id = getattr(task.request, HEADER, None) or new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id, task_name=task.name)


@before_task_publish.connect
def add_request_id_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """What Celery publishes itself (beat, a retry sent past the outbox) carries the id too."""
    if headers is not None and not headers.get(HEADER):
        headers[HEADER] = current_request_id() or new_request_id()
