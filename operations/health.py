"""Health: `/health/live` (the process answers) and `/health/ready` (what serving needs).

Readiness runs django-health-check's checks at once and answers 200 when all pass,
503 otherwise, with one JSON entry per check:

- database: a SELECT 1;
- cache: the shared cache (throttles, sign-in counters) stores and returns a value;
- broker: RabbitMQ accepts a connection;
- queue:<name>: at least one consumer reads each queue of the routing table;
- outbox: the oldest message the relay should have published is younger than
  HEALTH_OUTBOX_MAX_AGE_SECONDS (older: the relay or the broker is not keeping up);
- beat: the scheduling beat ticked within HEALTH_BEAT_MAX_SILENCE_SECONDS.
"""

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from messaging.backlog import outbox_backlog
from messaging.queues import QueueState, queue_states
from messaging.routing import QUEUES
from operations.heartbeats import BEAT, heartbeat_age


def live(request: HttpRequest) -> JsonResponse:
    """The process answers requests; nothing else is checked (a restart would not fix it)."""
    return JsonResponse({"status": "ok"})


@contextmanager
def _own_connection() -> Iterator[None]:
    """Checks run in threads of their own: close the connection each one opened."""
    try:
        yield
    except DatabaseError as exc:
        raise ServiceUnavailable(f"database unreachable ({type(exc).__name__})") from exc
    finally:
        connections.close_all()


@dataclasses.dataclass
class Broker(HealthCheck):
    timeout = timedelta(seconds=3)

    def run(self) -> None:
        _queues_or_unavailable()


@dataclasses.dataclass
class QueueConsumers(HealthCheck):
    queue: str = "default"
    timeout = timedelta(seconds=3)

    def run(self) -> None:
        state = next(s for s in _queues_or_unavailable() if s.name == self.queue)
        if state.consumers < 1:
            raise ServiceUnavailable(f"no worker consumes {self.queue} ({state.messages} message(s) waiting)")


@dataclasses.dataclass
class OutboxAge(HealthCheck):
    def run(self) -> None:
        with _own_connection():
            age = outbox_backlog().oldest_due_seconds
        if age > settings.HEALTH_OUTBOX_MAX_AGE_SECONDS:
            raise ServiceUnavailable(f"the oldest unpublished outbox message is {age:.0f} s overdue")


@dataclasses.dataclass
class BeatTick(HealthCheck):
    def run(self) -> None:
        with _own_connection():
            age = heartbeat_age(BEAT, active=True)
        if age is None:
            raise ServiceUnavailable("no beat has ever scheduled")
        if age.total_seconds() > settings.HEALTH_BEAT_MAX_SILENCE_SECONDS:
            raise ServiceUnavailable(f"beat last ticked {age.total_seconds():.0f} s ago")


def _queues_or_unavailable() -> list[QueueState]:
    try:
        return queue_states()
    except Exception as exc:  # kombu's and the transport's connection errors share no base class
        raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


def _check_name(check: HealthCheck) -> str:
    if isinstance(check, QueueConsumers):
        return f"queue:{check.queue}"
    names = {Database: "database", Cache: "cache", Broker: "broker", OutboxAge: "outbox", BeatTick: "beat"}
    return names[type(check)]


class ReadinessView(HealthCheckView):
    checks = (
        Database,
        Cache,
        Broker,
        *((QueueConsumers, {"queue": queue.name}) for queue in QUEUES),
        OutboxAge,
        BeatTick,
    )

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            results: list[HealthCheckResult] = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        ready = not any(result.error for result in results)
        body = {
            "status": "ok" if ready else "unavailable",
            "checks": {
                _check_name(result.check): {
                    "ok": result.error is None,
                    "detail": result.error.message if result.error else "ok",
                    "seconds": round(result.time_taken, 4),
                }
                for result in results
            },
        }
        return JsonResponse(body, status=200 if ready else 503)
