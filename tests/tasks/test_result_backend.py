"""The result backend stores each task state in one statement and reads like django-celery-results."""

from collections.abc import Mapping
from typing import Any

import pytest
from celery import states
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import TaskResult

from pro_platform.celery import app

pytestmark = pytest.mark.django_db


def stored(task_id: str) -> Mapping[str, Any]:
    rows = TaskResult.objects.values("status", "date_created", "date_started", "date_done")
    return rows.get(task_id=task_id)


def test_each_state_is_one_statement_on_one_row():
    with CaptureQueriesContext(connection) as started:
        app.backend.store_result("task-1", {"done": 1, "total": 3}, states.STARTED)
    first = stored("task-1")
    with CaptureQueriesContext(connection) as finished:
        app.backend.store_result("task-1", 42, states.SUCCESS)

    assert len(started) == len(finished) == 1
    assert first["status"] == states.STARTED
    assert first["date_started"] is not None
    row = stored("task-1")
    assert row["status"] == states.SUCCESS
    assert row["date_created"] == first["date_created"]  # set once, when the row was inserted
    assert row["date_started"] == first["date_started"]  # kept: the outcome does not restart the task
    assert row["date_done"] > first["date_done"]
    assert app.AsyncResult("task-1").result == 42


def test_progress_then_failure_read_back_as_celery_gives_them():
    app.backend.store_result("task-2", {"done": 1, "total": 3}, states.STARTED)
    assert app.AsyncResult("task-2").info == {"done": 1, "total": 3}

    app.backend.store_result("task-2", ValueError("no such day"), states.FAILURE)

    result = app.AsyncResult("task-2")
    assert result.state == states.FAILURE
    assert isinstance(result.result, ValueError)
    assert str(result.result) == "no such day"
    assert TaskResult.objects.filter(task_id="task-2").count() == 1
