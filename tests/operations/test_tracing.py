"""Request ids end to end, with real processes: gunicorn and a Celery worker writing JSON lines."""

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from messaging.models import DeadLetter, OutboxMessage
from messaging.outbox import enqueue
from messaging.routing import Tasks
from operations.tracing import bind_request_id
from services.dead_letters import dead_letter_replay
from testing import servers
from testing.auth import bearer
from testing.servers import wait_until
from tests.factories import ProductFactory, SellerFactory, UserFactory

JSON_LOGS = {"LOG_FORMAT": "json"}


def json_lines(output: str) -> list[dict]:
    """The process's log lines (what is not JSON is Celery's banner)."""
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture(scope="module")
def stack(django_db_setup: None) -> Iterator[tuple[servers.WebServer, servers.WorkerProcess]]:
    servers.purge_queues()
    with servers.smtp_server() as (_, smtp_port):
        web = servers.WebServer(workers=1, threads=2, extra_env=JSON_LOGS)
        worker = servers.WorkerProcess(
            "notifications,default",
            extra_env={**JSON_LOGS, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"},
        )
        with servers.running(web, worker):
            yield web, worker


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_orders_request_id_is_in_every_line_and_task_it_caused(stack):
    web, worker = stack
    customer = UserFactory.create()
    product = ProductFactory.create(seller=SellerFactory.create(), stock=5)
    request_id = f"trace-{uuid.uuid4().hex}"

    response = httpx.post(
        f"{web.url}/api/v1/orders/",
        json={"items": [{"product_id": product.pk, "quantity": 1}]},
        headers={"Authorization": bearer(customer), "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id

    staff = {"Authorization": bearer(UserFactory.create(is_staff=True))}

    def trace() -> dict:
        return httpx.get(f"{web.url}/api/v1/requests/{request_id}/", headers=staff).json()

    # The order is confirmed to the customer and announced to the seller: two tasks, both done.
    assert wait_until(lambda: {t["state"] for t in trace().get("tasks", [])} == {"SUCCESS"}, timeout=30)
    tasks = trace()["tasks"]
    names = {t["task_name"] for t in tasks}
    assert names == {Tasks.SEND_ORDER_CONFIRMATION, Tasks.SEND_SELLER_NOTIFICATION}, tasks
    assert {t["queue"] for t in tasks} == {"notifications"}
    assert all(t["published_at"] and t["date_done"] and t["error"] is None for t in tasks)
    task_ids = {t["task_id"] for t in tasks}
    assert (
        set(OutboxMessage.objects.filter(request_id=request_id).values_list("task_id", flat=True)) == task_ids
    )

    web_lines = [line for line in json_lines(web.log()) if line.get("request_id") == request_id]
    assert {"request_started", "request_finished"} <= {line["event"] for line in web_lines}
    assert wait_until(lambda: len(_task_lines(worker, request_id)) >= 4)
    task_lines = _task_lines(worker, request_id)
    assert {line["task_id"] for line in task_lines} == task_ids
    assert {line["task_name"] for line in task_lines} == names
    assert {"task_started", "task_succeeded"} <= {line["event"] for line in task_lines}
    for line in json_lines(web.log()) + json_lines(worker.log()):
        assert {"time", "level", "logger", "event"} <= line.keys(), line


def _task_lines(worker: servers.WorkerProcess, request_id: str) -> list[dict]:
    return [line for line in json_lines(worker.log()) if line.get("request_id") == request_id]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_request_id_that_is_not_sane_is_replaced(stack):
    web, _ = stack
    response = httpx.get(f"{web.url}/api/v1/products/", headers={"X-Request-ID": "not/a sane id"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] != "not/a sane id"
    assert len(response.headers["X-Request-ID"]) == 32


def test_the_outbox_stores_the_current_request_id_and_publishes_it_as_a_header(
    transactional_db, empty_queues
):
    bind_request_id("req-outer")
    try:
        task_id = enqueue(Tasks.GENERATE_DAILY_REPORT, kwargs={})
    finally:
        bind_request_id("")
    assert OutboxMessage.objects.get(task_id=task_id).request_id == "req-outer"
    (message,) = servers.drain("periodic")
    assert message.headers["request_id"] == "req-outer"


def test_a_replayed_dead_letter_keeps_the_request_id_of_its_request(db):
    dead = DeadLetter.objects.create(
        source="task", task_name=Tasks.GENERATE_DAILY_REPORT, task_id=str(uuid.uuid4()), kwargs={}, reason="x"
    )
    dead.request_id = "req-original"
    dead.save()
    bind_request_id("req-of-the-staff-member")
    try:
        task_id = dead_letter_replay(dead_letter_id=dead.pk)
    finally:
        bind_request_id("")
    assert OutboxMessage.objects.get(task_id=task_id).request_id == "req-original"


def test_staff_alone_may_trace_and_an_unknown_id_is_404(api_client, customer_client, staff_client):
    assert api_client.get("/api/v1/requests/abc/").status_code == 401
    assert customer_client.get("/api/v1/requests/abc/").status_code == 403
    response = staff_client.get("/api/v1/requests/abc/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "request_not_found"
