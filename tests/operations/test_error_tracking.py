"""Error tracking with real processes: a web process and a worker with SENTRY_DSN set report
to a local server that speaks Sentry's envelope protocol, each event tagged with its request id."""

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sentry_sdk

from messaging.outbox import enqueue
from messaging.routing import Tasks
from testing import servers
from testing.auth import bearer
from testing.servers import wait_until
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class SentrySink:
    """Collects the events posted to /api/<project>/envelope/."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = body.split(b"\n")
                for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                    if json.loads(header).get("type") == "event":
                        sink.events.append(json.loads(payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://public-key@127.0.0.1:{self.server.server_port}/1"

    def tagged(self, request_id: str) -> list[dict]:
        return [e for e in self.events if e.get("tags", {}).get("request_id") == request_id]


@pytest.fixture
def sentry() -> Iterator[SentrySink]:
    sink = SentrySink()
    yield sink
    sink.server.shutdown()


def test_error_tracking_is_off_without_a_dsn():
    assert not sentry_sdk.get_client().is_active()


def test_an_unhandled_error_in_the_web_is_reported_with_its_request_id(sentry):
    web = servers.WebServer(
        wsgi_app="tests.operations.failing_orders:application",
        workers=1,
        extra_env={"SENTRY_DSN": sentry.dsn},
    )
    with servers.running(web):
        customer = bearer(UserFactory.create())
        response = httpx.get(
            f"{web.url}/api/v1/orders/", headers={"Authorization": customer, "X-Request-ID": "req-sentry-web"}
        )
        assert response.status_code == 500
        assert wait_until(lambda: sentry.tagged("req-sentry-web"), timeout=15)
    (event,) = sentry.tagged("req-sentry-web")
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["exception"]["values"][-1]["value"] == "the order list broke"
    token = customer.removeprefix("Bearer ")
    assert token not in json.dumps(event)  # Sentry's own scrubbing: "[Filtered]"


def test_a_task_that_fails_for_good_is_reported_with_the_request_id_of_its_request(sentry):
    worker = servers.WorkerProcess("payments", extra_env={"SENTRY_DSN": sentry.dsn})
    with servers.running(worker):
        # No such callback: the task fails with an error it does not retry.
        enqueue(Tasks.PROCESS_PAYMENT_CALLBACK, kwargs={"callback_id": 0}, request_id="req-sentry-task")
        assert wait_until(lambda: sentry.tagged("req-sentry-task"), timeout=30), worker.log()[-3000:]
    (event,) = sentry.tagged("req-sentry-task")
    assert event["tags"]["celery_task_id"]
    assert event["exception"]["values"][-1]["type"]
