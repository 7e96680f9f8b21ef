"""Worker processes keep their database connection between tasks, as web requests do.

Celery's Django fixup would open a new one for every task; with CELERY_DB_REUSE_MAX set
the project applies CONN_MAX_AGE and health checks around each task instead. A
connection that breaks is replaced at the next task, which succeeds.
"""

import os
import uuid

import pytest
from celery import states
from django.db import connection

from pro_platform.celery import app
from testing import servers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

APPLICATION = f"worker-connections-{os.getpid()}"


def worker_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION])
        return [pid for (pid,) in cursor.fetchall()]


def run_task() -> None:
    task_id = str(uuid.uuid4())
    app.send_task("notifications.tasks.send_pending_emails", task_id=task_id)
    assert servers.wait_until(lambda: app.AsyncResult(task_id).state == states.SUCCESS, timeout=30)


def test_tasks_share_one_connection_and_a_broken_one_is_replaced(empty_queues):
    worker = servers.WorkerProcess(
        "periodic",
        relay=False,  # its connection would count here
        extra_env={
            "DATABASE_CONN_MAX_AGE": "60",
            "TEST_DATABASE_URL": f"{os.environ['DATABASE_URL']}?application_name={APPLICATION}",
        },
    )
    with servers.running(worker):
        run_task()
        (first,) = worker_backends()
        for _ in range(3):
            run_task()
            assert worker_backends() == [first], worker.log()[-3000:]

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        assert servers.wait_until(lambda: worker_backends() == [], timeout=10)
        run_task()
        (second,) = worker_backends()
        run_task()
        assert second != first
        assert worker_backends() == [second]
    assert "OperationalError" not in worker.log()
