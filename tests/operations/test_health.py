"""Liveness, readiness and the process probes, against real processes.

The web server reaches RabbitMQ through a proxy the test cuts; one worker consumes
every queue; beat schedules. Readiness is 200 with all of them, 503 without the broker
or without a queue's consumer, and 200 again once they are back.
"""

import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from messaging.routing import QUEUES
from testing import servers
from testing.servers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

ALL_QUEUES = ",".join(queue.name for queue in QUEUES)


def ready(web: servers.WebServer) -> httpx.Response:
    return httpx.get(f"{web.url}/health/ready", timeout=15)


def failing(response: httpx.Response) -> set[str]:
    return {name for name, check in response.json()["checks"].items() if not check["ok"]}


@pytest.fixture
def proxy() -> Iterator[servers.TcpProxy]:
    proxy = servers.TcpProxy(5672).start()
    yield proxy
    proxy.stop()


def test_readiness_follows_the_broker_and_each_queues_consumers(proxy):
    web = servers.WebServer(
        workers=1, extra_env={"TEST_CELERY_BROKER_URL": servers.broker_url_via(proxy.port)}
    )
    worker = servers.WorkerProcess(ALL_QUEUES)
    with servers.running(web, worker, servers.BeatProcess()):
        assert httpx.get(f"{web.url}/health/live").json() == {"status": "ok"}
        assert wait_until(lambda: ready(web).status_code == 200, timeout=30), ready(web).json()
        body = ready(web).json()
        expected = {"database", "cache", "broker", "outbox", "beat", *(f"queue:{q.name}" for q in QUEUES)}
        assert body["status"] == "ok"
        assert set(body["checks"]) == expected

        proxy.cut()
        response = ready(web)
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert failing(response) == {"broker", *(f"queue:{q.name}" for q in QUEUES)}
        assert "broker unreachable" in response.json()["checks"]["broker"]["detail"]
        assert httpx.get(f"{web.url}/health/live").status_code == 200  # alive all the same

        proxy.restore()
        assert wait_until(lambda: ready(web).status_code == 200, timeout=30)

        worker.stop()
        assert wait_until(lambda: ready(web).status_code == 503, timeout=30)
        assert failing(ready(web)) == {f"queue:{q.name}" for q in QUEUES}
        assert "no worker consumes payments" in ready(web).json()["checks"]["queue:payments"]["detail"]

        worker.start()
        assert wait_until(lambda: ready(web).status_code == 200, timeout=30)


def test_readiness_fails_when_beat_is_silent_and_the_outbox_is_overdue(proxy):
    web = servers.WebServer(
        workers=1,
        extra_env={
            "TEST_CELERY_BROKER_URL": servers.broker_url_via(proxy.port),
            "HEALTH_BEAT_MAX_SILENCE_SECONDS": "3",
            "HEALTH_OUTBOX_MAX_AGE_SECONDS": "2",
        },
    )
    with servers.running(web):
        time.sleep(4)  # any beat of an earlier test is silent by now
        assert "beat" in failing(ready(web))
        proxy.cut()  # the order's messages stay in the outbox, and no relay runs
        from testing.auth import bearer
        from tests.factories import ProductFactory, UserFactory

        product = ProductFactory.create(stock=1)
        response = httpx.post(
            f"{web.url}/api/v1/orders/",
            json={"items": [{"product_id": product.pk, "quantity": 1}]},
            headers={"Authorization": bearer(UserFactory.create())},
        )
        assert response.status_code == 201
        assert wait_until(lambda: "outbox" in failing(ready(web)), timeout=15)
        assert "overdue" in ready(web).json()["checks"]["outbox"]["detail"]


def test_readiness_fails_without_the_database_and_liveness_does_not():
    database = servers.TcpProxy(5432).start()
    web = servers.WebServer(
        workers=1,
        extra_env={
            "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{database.port}/{settings.DATABASES['default']['NAME']}"
        },
    )
    with servers.running(web):
        database.cut()
        response = ready(web)
        assert response.status_code == 503
        assert {"database", "cache", "outbox", "beat"} <= failing(response)
        assert httpx.get(f"{web.url}/health/live").status_code == 200
    database.stop()


def probe(*argv: str) -> str:
    """`manage.py probe …` in this process: its problem, or "" when the process does its job."""
    try:
        call_command("probe", *argv, stdout=io.StringIO())
    except CommandError as problem:
        return f"{problem} (exit {problem.returncode})"
    return ""


def test_each_process_can_be_probed():
    worker = servers.WorkerProcess("payments", name=f"payments@{socket.gethostname()}")
    relay = servers.RelayProcess()
    with servers.running(worker, relay, servers.BeatProcess()):
        assert probe("worker", "--queue", "payments") == ""
        assert wait_until(lambda: probe("relay") == "", timeout=15)
        assert wait_until(lambda: probe("beat") == "", timeout=15)
        assert probe("worker", "--queue", "notifications", "--timeout", "1").endswith(
            "no answer within 1 s (exit 1)"
        )
    time.sleep(2)
    assert "silent for" in probe("relay", "--max-silence", "1")
    assert "no answer" in probe("worker", "--queue", "payments", "--timeout", "1")


def test_a_probe_exits_non_zero_for_a_supervisor():
    result = subprocess.run(
        [sys.executable, "manage.py", "probe", "relay", "--max-silence", "0"],
        cwd=servers.ROOT,
        env=servers.test_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "relay:" in result.stderr
