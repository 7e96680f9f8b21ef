"""Start-up checks that turn an unreachable database or broker into one clear line."""

from typing import Any

from amqp.exceptions import PreconditionFailed
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from kombu import Connection

from messaging.routing import DEAD_LETTERS, QUEUES

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


def declare_broker_topology() -> list[str]:
    """Declare the task queues and the dead-letter exchange and queue; return what was changed.

    A queue declared by an older release with other arguments (before dead-lettering)
    cannot be re-declared in place. An empty one is deleted and declared anew; one that
    still holds messages is left alone and reported, for an operator to drain first.
    """
    changed: list[str] = []
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        for queue in (DEAD_LETTERS, *QUEUES):
            try:
                queue(conn.channel()).declare()
            except PreconditionFailed:
                changed.append(_redeclare(conn, queue))
    return changed


def _redeclare(conn: Connection, queue: Any) -> str:
    _, waiting, _ = queue(conn.channel()).queue_declare(passive=True)
    if waiting:
        raise BrokerTopologyError(
            f"RabbitMQ queue {queue.name!r} was declared with other arguments by an older release and "
            f"still holds {waiting} message(s); drain it with a worker of that release, then run again."
        )
    queue(conn.channel()).delete(if_empty=True)
    queue(conn.channel()).declare()
    return f"re-declared the empty queue {queue.name!r} with its current arguments"


class BrokerTopologyError(Exception):
    pass
