"""The compose files cannot run here (no Docker engine), so check them as Compose itself reads them."""

import os
import shutil
import subprocess

import pytest
import yaml

from messaging.routing import QUEUE_NAMES
from testing.servers import ROOT


def compose_config(filename: str, **env: str) -> dict:
    assert shutil.which("docker-compose"), "docker-compose is needed (make test installs it)"
    result = subprocess.run(
        ["docker-compose", "-f", filename, "config"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_full_stack_compose_file():
    config = compose_config(
        "docker-compose.yml", DJANGO_SECRET_KEY="compose-test", PAYMENT_WEBHOOK_SECRETS="whsec_compose"
    )
    services = config["services"]
    workers = {name for name in services if name.startswith("worker-")}
    assert workers == {f"worker-{queue}" for queue in QUEUE_NAMES}
    for queue in QUEUE_NAMES:
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert {"db", "rabbitmq", "migrate", "web", "beat", "flower", "relay"} <= set(services)
    assert services["relay"]["command"] == ["python", "manage.py", "outbox_relay"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "pro_platform", "beat"]
    assert services["rabbitmq"]["image"].endswith("-management")

    for name in ("db", "rabbitmq", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"][-1].endswith("/health/live')")
    for queue in QUEUE_NAMES:  # each process is probed for doing its job (manage.py probe)
        assert services[f"worker-{queue}"]["healthcheck"]["test"][-4:] == [
            "probe",
            "worker",
            "--queue",
            queue,
        ]
    assert services["relay"]["healthcheck"]["test"][-2:] == ["probe", "relay"]
    assert services["beat"]["healthcheck"]["test"][-2:] == ["probe", "beat"]
    for name in workers | {"web", "beat", "relay"}:
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["rabbitmq"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        env = services[name]["environment"]
        assert env["DATABASE_URL"].endswith("@db:5432/pro_platform")
        assert env["CELERY_BROKER_URL"] == "amqp://guest:guest@rabbitmq:5672//"
        assert env["DJANGO_DEBUG"] == "false"
        assert env["DJANGO_SECRET_KEY"] == "compose-test"
        assert env["PAYMENT_WEBHOOK_SECRETS"] == "whsec_compose"
        assert env["LOG_FORMAT"] == "json"
        # Web and workers write their counters to one shared directory (multiprocess mode).
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/var/run/pro-platform-metrics"
        assert any(
            str(v).startswith("metrics:/var/run/pro-platform-metrics") for v in services[name]["volumes"]
        )


def test_the_full_stack_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["PAYMENT_WEBHOOK_SECRETS"] = "whsec_compose"
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_rabbitmq_compose_file():
    services = compose_config("docker-compose_rabbit.yml")["services"]
    assert set(services) == {"rabbitmq"}
    rabbit = services["rabbitmq"]
    published = {int(p["published"]) for p in rabbit["ports"]}
    assert published == {5672, 15672}
    assert rabbit["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]


@pytest.mark.parametrize("filename", ["docker-compose.yml", "docker-compose_rabbit.yml"])
def test_images_are_pinned_to_a_major_version(filename):
    config = compose_config(filename, DJANGO_SECRET_KEY="x", PAYMENT_WEBHOOK_SECRETS="y")
    for service in config["services"].values():
        image = service.get("image", "")
        assert (":" in image and not image.endswith(":latest")) or image == "pro-platform:latest"
