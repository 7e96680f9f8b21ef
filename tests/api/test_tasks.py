import uuid

import pytest

from pro_platform.celery import app

pytestmark = pytest.mark.django_db


def test_unknown_task_ids_are_pending(customer_client):
    task_id = str(uuid.uuid4())
    assert customer_client.get(f"/api/v1/tasks/{task_id}/").json() == {
        "task_id": task_id,
        "state": "PENDING",
        "result": None,
        "error": None,
        "date_done": None,
        "progress": None,
    }


def test_a_running_task_reports_its_progress(customer_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, {"done": 2, "total": 6}, "STARTED")
    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()
    assert (body["state"], body["progress"], body["result"]) == ("STARTED", {"done": 2, "total": 6}, None)


def test_a_failed_task_reports_its_error(customer_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, ConnectionRefusedError("SMTP down"), "FAILURE")

    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()

    assert body["state"] == "FAILURE"
    assert body["result"] is None
    assert body["error"] == "ConnectionRefusedError: SMTP down"
    assert body["date_done"] is not None


def test_a_successful_task_reports_its_result(customer_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, {"sent": 3}, "SUCCESS")
    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()
    assert (body["state"], body["result"], body["error"]) == ("SUCCESS", {"sent": 3}, None)


def test_task_status_needs_a_token(api_client):
    assert api_client.get(f"/api/v1/tasks/{uuid.uuid4()}/").status_code == 401
