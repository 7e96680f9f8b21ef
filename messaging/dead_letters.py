"""Dead letters: messages nothing will process any more, kept with the reason.

Two ways in, one table (DeadLetter):
- a task that gives up (retries spent, an error it does not retry, a time limit) is
  recorded by the `task_failure` receiver in messaging/signals.py;
- a message a worker rejects (undecodable, unknown task, invalid) goes to RabbitMQ's
  dead-letter exchange; `dead_letters_collect` (run by the outbox relay) moves it here.
Staff replay them (services/dead_letters.py).
"""

import json
import logging
from typing import Any, cast

from django_celery_results.models import TaskResult
from kombu import Connection, Queue
from kombu.message import Message

from messaging.models import DeadLetter, DeadLetterSource
from messaging.routing import DEAD_LETTERS
from operations.tracing import HEADER as REQUEST_ID_HEADER
from operations.tracing import current_request_id
from pro_platform.celery import app

logger = logging.getLogger(__name__)

MAX_DETAIL = 20_000


def dead_letter_record_failure(
    *,
    task_name: str,
    task_id: str,
    kwargs: Any,
    exception: BaseException | None,
    traceback: str,
    retries: int,
    queue: str,
) -> DeadLetter | None:
    """Record a task that failed for good. Never raises: the worker must go on."""
    reason = f"{type(exception).__name__}: {exception}" if exception else "failed"
    try:
        return DeadLetter.objects.create(
            source=DeadLetterSource.TASK,
            task_name=task_name,
            task_id=task_id,
            queue=queue,
            kwargs=kwargs if isinstance(kwargs, dict) else None,
            retries=retries,
            reason=reason[:2000],
            detail=traceback[:MAX_DETAIL],
            request_id=current_request_id(),  # the failed task's, bound by the worker
        )
    except Exception:
        # The database is what failed: the log line is then the only record, so it carries everything.
        logger.critical(
            "dead letter not recorded: %s[%s] kwargs=%r: %s",
            *(task_name, task_id, kwargs, reason),
            exc_info=True,
        )
        return None


def dead_letters_collect(*, limit: int = 100) -> int:
    """Move up to `limit` messages from RabbitMQ's dead-letter queue into the table; return how many.

    A message is acknowledged only after its row is committed, so a crash in between
    leaves it in the queue.
    """
    collected = 0
    # A pooled connection: the relay calls this every second.
    connection = cast(Connection, app.pool.acquire(block=True))
    with connection, connection.channel() as channel:
        queue: Queue = DEAD_LETTERS(channel)
        queue.declare()
        while collected < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            _record_rejected(message)
            message.ack()
            collected += 1
    return collected


def _record_rejected(message: Message) -> DeadLetter | None:
    headers: dict[str, Any] = dict(message.headers or {})
    task_id = str(headers.get("id") or "")
    if task_id and DeadLetter.objects.filter(task_id=task_id, replayed_at=None).exists():
        return None  # the task's own failure is recorded already, with its traceback
    deaths: list[dict[str, Any]] = headers.pop("x-death", None) or [{}]
    kwargs, decode_error = _decode_kwargs(message)
    return DeadLetter.objects.create(
        source=DeadLetterSource.BROKER,
        task_name=str(headers.get("task") or ""),
        task_id=task_id,
        queue=str(deaths[0].get("queue", "")),
        kwargs=kwargs,
        retries=int(headers.get("retries") or 0),
        request_id=str(headers.get(REQUEST_ID_HEADER) or "")[:128],
        reason=_rejection_reason(headers, task_id, decode_error)[:2000],
        detail=_describe(message, headers)[:MAX_DETAIL],
    )


def _decode_kwargs(message: Message) -> tuple[dict[str, Any] | None, str]:
    """The task's kwargs from a Celery (protocol 2) JSON body, or why there are none."""
    if message.content_type != "application/json":
        return None, f"content type {message.content_type!r} is not accepted (JSON only)"
    try:
        body = json.loads(message.body or b"")
    except ValueError as exc:
        return None, f"the body is not valid JSON ({exc})"
    if not (isinstance(body, list) and len(body) == 3 and isinstance(body[1], dict)):
        return None, "the body is not a Celery task message ([args, kwargs, options])"
    return body[1], ""


def _rejection_reason(headers: dict[str, Any], task_id: str, decode_error: str) -> str:
    if not headers.get("task"):
        return f"not a Celery task message (no task header); {decode_error or 'rejected by a worker'}"
    if decode_error:
        return decode_error
    results = TaskResult.objects.filter(task_id=task_id, status="FAILURE").values_list("result", flat=True)
    for result in results[:1]:
        error = json.loads(result or "{}")
        message = error.get("exc_message")
        message = ", ".join(map(str, message)) if isinstance(message, list) else message
        return f"{error.get('exc_type', 'error')}: {message}"
    return "rejected by a worker"


def _describe(message: Message, headers: dict[str, Any]) -> str:
    raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    body = raw.decode(errors="backslashreplace").replace("\x00", "\\x00")  # PostgreSQL text holds no NUL
    properties = {"content_type": message.content_type, "content_encoding": message.content_encoding}
    return json.dumps({"properties": properties, "headers": headers}, default=str) + "\n\n" + body
