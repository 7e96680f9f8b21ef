"""What Celery loads by path (pro_platform/celery.py names these): the task base class,
and what only worker processes need.

- OutboxTask, the base class of every task: a retry is written to the transactional
  outbox like any other message, so it survives a broker outage and a long delay
  waits in PostgreSQL instead of being held, unacknowledged, by a consumer.
- DeadLetteringConsumer: a message that cannot even be decoded is rejected to the
  dead-letter exchange instead of being acknowledged away (Celery's default).
- DeclareDeadLetters: declares the dead-letter exchange and queue on every
  connection, so a rejected message always has somewhere to go.
"""

import logging
from typing import Any

from celery import Task, bootsteps
from celery.exceptions import Retry
from celery.worker.consumer import Consumer
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from kombu.message import Message

from messaging.outbox import enqueue
from messaging.routing import DEAD_LETTERS

logger = logging.getLogger(__name__)


class OutboxTask(Task):
    """Base task: idempotent entry points whose retries go through the outbox.

    A lost database connection is always worth another try (with backoff, bounded by
    the task's max_retries; notification tasks count their delivery attempts on the
    row instead and retry a database outage for as long as it lasts). When the
    database itself is down the retry cannot be written there, and goes straight to
    the broker as Celery would.
    """

    autoretry_for: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    retry_backoff = 1
    retry_backoff_max = 60
    retry_jitter = True

    def retry(
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: Exception | None = None,
        throw: bool = True,
        eta: Any = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Retry:
        request = self.request
        limit = self.max_retries if max_retries is None else max_retries
        retries = request.retries + 1
        celery_retry = request.called_directly or request.is_eager or args or eta or options
        if celery_retry or (limit is not None and retries > limit):
            # Celery raises the error (or MaxRetriesExceededError) once the retries are spent.
            return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)

        delay = float(self.default_retry_delay if countdown is None else countdown)
        if connection.errors_occurred:  # a connection the task lost is no use to the retry
            connection.close_if_unusable_or_obsolete()
        try:
            enqueue(
                self.name,
                kwargs=dict(request.kwargs or {}) if kwargs is None else dict(kwargs),
                task_id=request.id,
                priority=(request.delivery_info or {}).get("priority"),
                countdown=delay,
                retries=retries,
            )
        except (DatabaseError, InterfaceError) as db_error:  # InterfaceError is no DatabaseError
            logger.warning(
                "retry of %s[%s] not in the outbox (%s): via the broker", self.name, request.id, db_error
            )
            return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)
        retry = Retry(exc=exc, when=delay)  # type: ignore[arg-type]  # the stub's numbers.Real excludes float
        if throw:
            raise retry
        return retry


class DeadLetteringConsumer(Consumer):
    def on_decode_error(self, message: Message, exc: Exception) -> None:
        """Reject (to the dead-letter exchange) what Celery would acknowledge and lose."""
        logger.critical(
            "undecodable message (%s: %s), content type %r, headers %r: dead-lettered",
            type(exc).__name__,
            exc,
            message.content_type,
            message.headers,
        )
        message.reject_log_error(logger, self.connection_errors)  # type: ignore[attr-defined]


class DeclareDeadLetters(bootsteps.StartStopStep):
    requires = ("celery.worker.consumer.connection:Connection",)

    def start(self, c: Consumer) -> None:
        assert c.connection is not None  # the Connection step made it
        with c.connection.channel() as channel:
            DEAD_LETTERS(channel).declare()
