"""The compose files cannot run here (no Docker engine), so check them as Compose itself reads them."""

import os
import re
import shutil
import subprocess

import pytest
import yaml
from django.conf import settings

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


SECRETS = {
    "DJANGO_SECRET_KEY": "compose-test",
    "PAYMENT_WEBHOOK_SECRETS": "whsec_compose",
    "POSTGRES_USER": "shop",
    "POSTGRES_PASSWORD": "pg-secret",
    "RABBITMQ_USER": "shop-mq",
    "RABBITMQ_PASSWORD": "mq-secret",
    "RABBITMQ_VHOST": "shop",
    "FLOWER_BASIC_AUTH": "ops:flower-secret",
}
APP_SERVICES = {"web", "beat", "relay", *(f"worker-{queue}" for queue in QUEUE_NAMES)}


@pytest.fixture(scope="module")
def services() -> dict:
    return compose_config("docker-compose.yml", **SECRETS)["services"]


def test_the_full_stack_compose_file(services):
    workers = {name for name in services if name.startswith("worker-")}
    assert workers == {f"worker-{queue}" for queue in QUEUE_NAMES}
    for queue in QUEUE_NAMES:
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert {"db", "rabbitmq", "redis", "migrate", "web", "beat", "flower", "relay"} <= set(services)
    assert services["relay"]["command"] == ["python", "manage.py", "outbox_relay"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "pro_platform", "beat"]
    assert services["rabbitmq"]["image"].split(":")[1].endswith("-management")

    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        for dependency in ("db", "rabbitmq", "redis"):
            assert depends[dependency]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://shop:pg-secret@db:5432/pro_platform"
        assert env["CELERY_BROKER_URL"] == "amqp://shop-mq:mq-secret@rabbitmq:5672/shop"
        assert env["REDIS_URL"] == "redis://redis:6379/0"  # throttles shared by every web process
        assert env["DJANGO_DEBUG"] == "false"
        assert env["DJANGO_SECRET_KEY"] == "compose-test"
        assert env["PAYMENT_WEBHOOK_SECRETS"] == "whsec_compose"
        assert env["LOG_FORMAT"] == "json"
        # Web and workers write their counters to one shared directory (multiprocess mode).
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/var/run/pro-platform-metrics"
        assert any(
            str(v).startswith("metrics:/var/run/pro-platform-metrics") for v in services[name]["volumes"]
        )
    assert services["db"]["environment"] == {
        "POSTGRES_DB": "pro_platform",
        "POSTGRES_USER": "shop",
        "POSTGRES_PASSWORD": "pg-secret",
    }
    rabbit = services["rabbitmq"]["environment"]
    assert (rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"]) == ("shop-mq", "mq-secret")
    assert rabbit["RABBITMQ_DEFAULT_VHOST"] == "shop"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name != "migrate":  # a one-shot job: the others wait for it to complete instead
            assert service["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"][-1].endswith("/health/live', timeout=4)")
    for queue in QUEUE_NAMES:  # each process is probed for doing its job (manage.py probe)
        assert services[f"worker-{queue}"]["healthcheck"]["test"][-4:] == [
            "probe",
            "worker",
            "--queue",
            queue,
        ]
    assert services["relay"]["healthcheck"]["test"][-2:] == ["probe", "relay"]
    assert services["beat"]["healthcheck"]["test"][-2:] == ["probe", "beat"]
    assert services["flower"]["healthcheck"]["test"][-1].endswith("/healthcheck', timeout=4)")


def seconds(duration: str) -> int:
    value, unit = re.fullmatch(r"(\d+)(s|m)", duration).groups()  # type: ignore[union-attr]
    return int(value) * (60 if unit == "m" else 1)


def test_processes_get_longer_to_stop_than_a_task_may_run(services):
    for name in APP_SERVICES - {"web"}:
        assert seconds(services[name]["stop_grace_period"]) > settings.CELERY_TASK_SOFT_TIME_LIMIT, name


def test_consoles_listen_on_this_host_only_unless_asked(services):
    def published(name: str) -> set[tuple[str, int]]:
        return {(p.split(":")[0], int(p.split(":")[1])) for p in map(str, services[name]["ports"])}

    assert published("rabbitmq") == {("127.0.0.1", 15672)}  # no AMQP port outside the stack
    assert published("flower") == {("127.0.0.1", 5555)}
    assert services["flower"]["command"] == ["deploy/flower"]  # refuses to start without a password
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == "ops:flower-secret"
    opened = compose_config("docker-compose.yml", **SECRETS, FLOWER_BIND="10.0.0.5")["services"]["flower"]
    assert str(opened["ports"][0]).startswith("10.0.0.5:5555")


def test_demo_data_only_when_asked():
    command = compose_config("docker-compose.yml", **SECRETS)["services"]["migrate"]["command"]
    # "$$": the shell's variable, not one of compose's.
    assert command[-1].endswith('if [ "$$DEMO_DATA" = 1 ]; then python manage.py seed_demo; fi')
    migrate = compose_config("docker-compose.yml", **SECRETS)["services"]["migrate"]["environment"]
    assert migrate["DEMO_DATA"] == "0"


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_the_stack_refuses_to_start_without_each_secret(secret):
    env = {k: v for k, v in {**os.environ, **SECRETS}.items() if k != secret}
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"set {secret}" in result.stderr


def test_env_example_lists_every_variable_the_stack_reads():
    compose = (ROOT / "docker-compose.yml").read_text()
    read = set(re.findall(r"\$\{([A-Z_]+)[:}]", compose))
    listed = re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert read == set(listed)
    example = (ROOT / ".env.example").read_text().splitlines()
    for n, line in enumerate(example):  # each variable is explained by the comment above it
        if re.match(r"^[A-Z_]+=", line):
            assert example[n - 1].startswith("#") or re.match(r"^[A-Z_]+=", example[n - 1]), line


def test_the_rabbitmq_compose_file():
    services = compose_config("docker-compose_rabbit.yml")["services"]
    assert set(services) == {"rabbitmq"}
    rabbit = services["rabbitmq"]
    published = {int(p["published"]) for p in rabbit["ports"]}
    assert published == {5672, 15672}
    assert rabbit["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]


@pytest.mark.parametrize("filename", ["docker-compose.yml", "docker-compose_rabbit.yml"])
def test_images_are_pinned_to_exact_versions(filename):
    config = compose_config(filename, **SECRETS)
    for service in config["services"].values():
        image = service.get("image", "")
        if image == "pro-platform:latest":  # built here from the Dockerfile
            continue
        # A release, never a moving tag: PostgreSQL numbers its releases major.minor, the others x.y.z.
        release = r"\d+\.\d+" if image.startswith("postgres:") else r"\d+\.\d+\.\d+"
        assert re.fullmatch(rf"[a-z0-9/-]+:{release}(-[a-z0-9.-]+)?", image), image
