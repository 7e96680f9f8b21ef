"""The result backend: django-celery-results' database backend, one statement per state.

Its manager stores a state with get_or_create and then save: SELECT, BEGIN, INSERT,
COMMIT for STARTED (seed 003 tracks it), SELECT and UPDATE for the outcome; six round
trips per task, four of them before the task may start. One INSERT ... ON CONFLICT DO
UPDATE in autocommit stores each state in one; a state is one row, so nothing more is
needed to keep it whole. Everything else (reading, groups, chords, cleanup) is the
library's.

A state that cannot be stored because the database is unreachable is retried on a new
connection (Celery's result_backend_always_retry, with backoff); if it stays unreachable
the message goes back to its queue. Celery would otherwise acknowledge it: the STARTED
state is stored before the task runs, so a task starting during a database outage was
acknowledged and never run (found by the chaos run, tests/reliability/test_database_outage.py).
"""

from typing import Any

from celery import states
from celery.exceptions import BackendStoreError, Reject
from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone
from django_celery_results.backends.database import DatabaseBackend as LibraryDatabaseBackend
from django_celery_results.models import TaskResult

INSERTED_ONLY = ("task_id", "date_created")


class DatabaseBackend(LibraryDatabaseBackend):
    def exception_safe_to_retry(self, exc: Exception) -> bool:
        """A connection lost or refused is worth another try, on a new connection."""
        if isinstance(exc, OperationalError | InterfaceError):
            connections[router.db_for_write(TaskResult)].close()
            return True
        return bool(super().exception_safe_to_retry(exc))

    def store_result(self, *args: Any, **kwargs: Any) -> Any:
        """Store a state, retrying a lost connection; when the database stays unreachable,
        the task's message goes back to its queue (to run again: every task is idempotent)."""
        try:
            return super().store_result(*args, **kwargs)
        except (BackendStoreError, OperationalError, InterfaceError) as exc:  # retries spent
            raise Reject(exc, requeue=True) from exc

    def _store_result(
        self,
        task_id: str,
        result: Any,
        status: str,
        traceback: str | None = None,
        request: Any = None,
        using: str | None = None,
    ) -> Any:
        content_type, content_encoding, encoded_result = self.encode_content(result)
        meta = {**self._get_meta_from_request(request), "children": self.current_task_children(request)}
        now = timezone.now()
        row = {
            "task_id": task_id,
            "status": status,
            "result": encoded_result,
            "traceback": traceback,
            "meta": self.encode_content(meta)[2],
            "content_type": content_type,
            "content_encoding": content_encoding,
            # After traceback, as in the library (which resets it here without a request).
            **self._get_extended_properties(request, traceback),
            "date_created": now,
            "date_done": now,
        }
        if status == states.STARTED:
            row["date_started"] = now
        connection = connections[using or router.db_for_write(TaskResult)]
        quote = connection.ops.quote_name
        columns = {name: quote(name) for name in row}  # TaskResult's columns are named as its fields
        updates = [f"{col} = EXCLUDED.{col}" for name, col in columns.items() if name not in INSERTED_ONLY]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(TaskResult._meta.db_table)} ({', '.join(columns.values())}) "
                f"VALUES ({', '.join(['%s'] * len(row))}) "
                f"ON CONFLICT ({quote('task_id')}) DO UPDATE SET {', '.join(updates)}",
                list(row.values()),
            )
        return result
