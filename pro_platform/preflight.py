"""Start-up checks that turn an unreachable database or broker into one clear line."""

from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from kombu import Connection

DATABASE_HINT = (
    "start it with `pg_ctlcluster 15 main start` or `docker compose up -d db`, or set DATABASE_URL"
)
BROKER_HINT = (
    "start it with `rabbitmq-server -detached` or "
    "`docker compose -f docker-compose_rabbit.yml up -d`, or set CELERY_BROKER_URL"
)


def _database_address() -> str:
    db = settings.DATABASES["default"]
    return f"PostgreSQL database {db['NAME']!r} at {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


def database_unreachable_message(exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot reach the {_database_address()} ({reason}); {DATABASE_HINT}."


def broker_unreachable_message(exc: Exception) -> str:
    url = Connection(settings.CELERY_BROKER_URL).as_uri()  # password masked
    return f"cannot reach RabbitMQ at {url} ({exc}); {BROKER_HINT}."


def check_database() -> str | None:
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        return database_unreachable_message(exc)
    return None


def check_broker() -> str | None:
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises several unrelated types for "unreachable"
        return broker_unreachable_message(exc)
    return None
