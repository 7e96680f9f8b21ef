"""An unreachable database or broker is reported in one clear line, not a traceback."""

import os
import subprocess
import sys
from contextlib import closing

import pika

from testing import servers
from testing.servers import ROOT, free_port


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "pro_platform.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_services_names_both_unreachable_services():
    result = manage(
        "check_services",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/pro_platform",
        CELERY_BROKER_URL=f"amqp://guest:secret@127.0.0.1:{free_port()}//",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "cannot reach the PostgreSQL database 'pro_platform'" in lines[0]
    assert "set DATABASE_URL" in lines[0]
    assert "cannot reach RabbitMQ at amqp://guest:**@127.0.0.1" in lines[1]
    assert "docker compose -f docker-compose_rabbit.yml up -d" in lines[1]
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_needing_the_database_fails_with_one_line():
    result = manage("migrate", DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/pro_platform")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the PostgreSQL database 'pro_platform'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_check_services_passes_when_both_are_up(db):
    result = manage("check_services", DJANGO_SETTINGS_MODULE="pro_platform.settings.test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "PostgreSQL and RabbitMQ are reachable."


def test_check_services_redeclares_empty_queues_of_an_older_release_and_keeps_full_ones(db):
    """Queues declared before dead-lettering have other arguments, which RabbitMQ will not change."""
    vhost = f"{servers.test_vhost()}_topology"
    servers.reset_vhost(vhost)
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    params = pika.URLParameters(url)
    env = {"DJANGO_SETTINGS_MODULE": "pro_platform.settings.test", "TEST_CELERY_BROKER_URL": url}
    old_arguments = {"x-max-priority": 10}
    try:
        with closing(pika.BlockingConnection(params)) as connection:
            channel = connection.channel()
            for name in ("payments", "notifications"):
                channel.queue_declare(name, durable=True, arguments=old_arguments)
            channel.basic_publish("", "payments", b"[[], {}, {}]")

        refused = manage("check_services", **env)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "CommandError: RabbitMQ queue 'payments' was declared with other arguments by an older release "
            "and still holds 1 message(s); drain it with a worker of that release, then run again."
        )

        with closing(pika.BlockingConnection(params)) as connection:
            connection.channel().queue_purge("payments")
        passed = manage("check_services", **env)
        assert passed.returncode == 0, passed.stderr
        assert "re-declared the empty queue 'payments' with its current arguments" in passed.stdout
        assert "re-declared the empty queue 'notifications' with its current arguments" in passed.stdout

        with closing(pika.BlockingConnection(params)) as connection:
            for name in ("payments", "notifications", "default", "periodic"):
                connection.channel().queue_declare(
                    name, durable=True, arguments={**old_arguments, "x-dead-letter-exchange": "dead_letters"}
                )
            connection.channel().queue_declare("dead_letters", passive=True)
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)
