"""Prometheus metrics at `/metrics`, for staff (a signed-in admin session) or a scraper
presenting `Authorization: Bearer $METRICS_TOKEN`.

Two kinds, each correct however many processes run:
- counted where it happens, in Prometheus' multiprocess mode (every web and worker process
  writes to PROMETHEUS_MULTIPROC_DIR, one directory per host, and the scrape sums them):
  HTTP requests by view, method and status (django-prometheus), and tasks by name, queue
  and outcome with their durations (the receivers below, in workers);
- read at scrape time from PostgreSQL and RabbitMQ, the one source of truth for state:
  the outbox backlog and the age of its oldest message, open dead letters,
  notifications by channel and state, each queue's depth and consumers.
"""

import hmac
import time
from collections.abc import Iterator
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from messaging.backlog import outbox_backlog
from messaging.models import DeadLetter
from messaging.queues import queue_states
from notifications.models import Notification
from pro_platform.exceptions import error_response

TASKS = Counter(
    "celery_tasks_total",
    "Task runs that ended, by outcome (succeeded, failed, retried).",
    ["task", "queue", "outcome"],
)
TASK_SECONDS = Histogram(
    "celery_task_duration_seconds",
    "How long task runs took, whatever their outcome.",
    ["task", "queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}

_started: dict[str, float] = {}


@task_prerun.connect
def task_started(task_id: str, **kwargs: Any) -> None:
    _started[task_id] = time.monotonic()


@task_postrun.connect
def task_ended(task_id: str, task: Any, state: str | None = None, **kwargs: Any) -> None:
    started = _started.pop(task_id, None)
    queue = (task.request.delivery_info or {}).get("routing_key") or "unknown"
    TASKS.labels(task.name, queue, OUTCOMES.get(state or "", (state or "unknown").lower())).inc()
    if started is not None:
        TASK_SECONDS.labels(task.name, queue).observe(time.monotonic() - started)


class PlatformState(Collector):
    """Gauges read from the database and the broker when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        try:
            from_database = [*self._outbox(), *self._notifications()]
        except DatabaseError:  # database unreachable: say so, and leave its figures out
            from_database = []
        yield GaugeMetricFamily(
            "database_up", "1 when PostgreSQL answered this scrape.", value=int(bool(from_database))
        )
        yield from from_database
        yield from self._queues()

    def _outbox(self) -> Iterator[Metric]:
        backlog = outbox_backlog()
        yield GaugeMetricFamily(
            "outbox_backlog_messages",
            "Committed task messages due for publishing and not published yet.",
            value=backlog.due,
        )
        yield GaugeMetricFamily(
            "outbox_oldest_backlog_age_seconds",
            "How long the oldest of them has been due (0 when there are none).",
            value=backlog.oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "outbox_delayed_messages",
            "Messages waiting in the outbox for a later time (long retry delays).",
            value=backlog.delayed,
        )
        yield GaugeMetricFamily(
            "dead_letters_open",
            "Dead letters not replayed yet.",
            value=DeadLetter.objects.filter(replayed_at=None).count(),
        )

    def _notifications(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "notifications", "Notifications by channel and state.", labels=["channel", "state"]
        )
        for row in Notification.objects.values("channel", "status").annotate(count=Count("id")).order_by():
            family.add_metric([row["channel"], row["status"]], row["count"])
        yield family

    def _queues(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("rabbitmq_up", "1 when RabbitMQ answered this scrape.")
        depth = GaugeMetricFamily(
            "rabbitmq_queue_messages", "Messages ready in each queue.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "rabbitmq_queue_consumers", "Consumers of each queue.", labels=["queue"]
        )
        states = queue_states()
        up.add_metric([], int(states is not None))
        if states is None:  # leave the depths out rather than say 0
            yield up
            return
        for state in states:
            depth.add_metric([state.name], state.messages)
            consumers.add_metric([state.name], state.consumers)
        yield from (up, depth, consumers)


def _may_read(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return bool(token) and hmac.compare_digest(offered.encode(), token.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_read(request):
        refused = error_response(401, "not_authenticated", "Staff sign-in or the metrics token is required.")
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(PlatformState())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
