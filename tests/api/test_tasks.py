import uuid

import pytest

from messaging.models import OutboxMessage
from pro_platform.celery import app
from services.tasks import task_track
from testing.auth import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def task_id(customer) -> str:
    """A task the customer's request caused (its id was handed out to them)."""
    task_id = str(uuid.uuid4())
    task_track(task_id=task_id, requested_by=customer)
    return task_id


def test_a_queued_task_is_pending_to_the_customer_who_caused_it(customer_client, task_id):
    assert customer_client.get(f"/api/v1/tasks/{task_id}/").json() == {
        "task_id": task_id,
        "state": "PENDING",
        "result": None,
        "error": None,
        "date_done": None,
        "progress": None,
    }


def test_another_customer_gets_404_for_it(api_client, task_id):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(UserFactory.create()))
    response = api_client.get(f"/api/v1/tasks/{task_id}/")
    assert response.status_code == 404
    assert response.json()["errors"] == [
        {"code": "task_not_found", "detail": "No such task (or not yours to follow).", "attr": None}
    ]


def test_staff_follow_any_task_handed_out(staff_client, task_id):
    task_track(task_id=(staff_only := str(uuid.uuid4())))  # e.g. a payment callback's
    assert staff_client.get(f"/api/v1/tasks/{task_id}/").status_code == 200
    assert staff_client.get(f"/api/v1/tasks/{staff_only}/").json()["state"] == "PENDING"


def test_a_task_nobody_asked_for_is_staff_only(customer_client):
    task_track(task_id=(staff_only := str(uuid.uuid4())))
    assert customer_client.get(f"/api/v1/tasks/{staff_only}/").status_code == 404


@pytest.mark.parametrize("viewer", ["customer_client", "staff_client"])
def test_an_unknown_id_is_404_not_pending(request, viewer):
    response = request.getfixturevalue(viewer).get(f"/api/v1/tasks/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "task_not_found"


def test_staff_follow_any_task_the_platform_knows_customers_only_theirs(customer_client, staff_client):
    stored, queued = str(uuid.uuid4()), str(uuid.uuid4())
    app.backend.store_result(stored, {"sent": 3}, "SUCCESS")  # e.g. a notification's task
    OutboxMessage.objects.create(task_name="notifications.tasks.send_notification", task_id=queued)

    assert staff_client.get(f"/api/v1/tasks/{stored}/").json()["result"] == {"sent": 3}
    assert staff_client.get(f"/api/v1/tasks/{queued}/").json()["state"] == "PENDING"
    assert customer_client.get(f"/api/v1/tasks/{stored}/").status_code == 404
    assert customer_client.get(f"/api/v1/tasks/{queued}/").status_code == 404


def test_a_running_task_reports_its_progress(customer_client, task_id):
    app.backend.store_result(task_id, {"done": 2, "total": 6}, "STARTED")
    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()
    assert (body["state"], body["progress"], body["result"]) == ("STARTED", {"done": 2, "total": 6}, None)


def test_a_failed_task_reports_its_error(customer_client, task_id):
    app.backend.store_result(task_id, ConnectionRefusedError("SMTP down"), "FAILURE")

    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()

    assert body["state"] == "FAILURE"
    assert body["result"] is None
    assert body["error"] == "ConnectionRefusedError: SMTP down"
    assert body["date_done"] is not None


def test_a_successful_task_reports_its_result(customer_client, task_id):
    app.backend.store_result(task_id, {"sent": 3}, "SUCCESS")
    body = customer_client.get(f"/api/v1/tasks/{task_id}/").json()
    assert (body["state"], body["result"], body["error"]) == ("SUCCESS", {"sent": 3}, None)


def test_task_status_needs_a_token(api_client):
    assert api_client.get(f"/api/v1/tasks/{uuid.uuid4()}/").status_code == 401


@pytest.mark.parametrize("task_id", ["not-a-uuid", "%00"])
def test_a_malformed_task_id_is_404(staff_client, task_id):
    response = staff_client.get(f"/api/v1/tasks/{task_id}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
