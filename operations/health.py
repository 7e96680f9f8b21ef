"""Health: `/health/live` (the process answers) and `/health/ready` (what serving needs).

Readiness runs django-health-check's checks at once and answers 200 when all pass,
503 otherwise, with one JSON entry per check:

- database: a SELECT 1;
- cache: the shared cache (throttles, sign-in counters) stores and returns a value;
- broker: RabbitMQ answers (one reading of every queue, which the queue checks share);
- queue:<name>: at least one consumer reads each queue of the routing table;
- outbox: the oldest message the relay should have published is younger than
  HEALTH_OUTBOX_MAX_AGE_SECONDS (older: the relay or the broker is not keeping up);
- beat: the scheduling beat ticked within HEALTH_BEAT_MAX_SILENCE_SECONDS.
"""

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import sync_to_async
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
    """RabbitMQ answered the one reading of the queues this readiness request made."""

    queues: list[QueueState] | None = dataclasses.field(default=None, repr=False)

    def run(self) -> None:
        if self.queues is None:
            raise ServiceUnavailable("broker unreachable")


@dataclasses.dataclass
class QueueConsumers(Broker):
    queue: str = "default"

    def run(self) -> None:
        super().run()
        state = next(s for s in self.queues or () if s.name == self.queue)
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


def _check_name(check: HealthCheck) -> str:
    if isinstance(check, QueueConsumers):
        return f"queue:{check.queue}"
    names = {Database: "database", Cache: "cache", Broker: "broker", OutboxAge: "outbox", BeatTick: "beat"}
    return names[type(check)]


class ReadinessView(HealthCheckView):
    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        queues = await sync_to_async(queue_states, thread_sensitive=False)()  # one broker round for all
        self.checks = (
            Database,
            Cache,
            (Broker, {"queues": queues}),
            *((QueueConsumers, {"queue": queue.name, "queues": queues}) for queue in QUEUES),
            OutboxAge,
            BeatTick,
        )
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
