"""What the staff task dashboard shows: the last 24 hours of tasks, and the state of the
machinery between requests and workers. Read from the result backend, the outbox, the
dead letters and RabbitMQ."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from messaging.backlog import Backlog, outbox_backlog
from messaging.models import DeadLetter, OutboxMessage
from messaging.queues import QueueState, queue_states

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TaskFigures:
    task_name: str
    succeeded: int
    failed: int
    retried: int
    p50_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class HourFigures:
    hour: datetime
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    queues: list[QueueState] | None  # None: RabbitMQ did not answer
    outbox: Backlog
    dead_letters_open: int
    tasks: list[TaskFigures]
    hours: list[HourFigures]
    recent_failures: list[DeadLetter]


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    since = now - WINDOW
    return Dashboard(
        since=since,
        queues=queue_states(),
        outbox=outbox_backlog(now=now),
        dead_letters_open=DeadLetter.objects.filter(replayed_at=None).count(),
        tasks=_tasks(since),
        hours=_hours(since, now),
        recent_failures=list(DeadLetter.objects.filter(created_at__gte=since).order_by("-created_at")[:10]),
    )


def _tasks(since: datetime) -> list[TaskFigures]:
    """Outcomes and run times (started to done) by task; retries are the outbox's retry messages."""
    retried = dict(
        OutboxMessage.objects.filter(created_at__gte=since, retries__gt=0)
        .values_list("task_name")
        .annotate(count=Count("id"))
        .values_list("task_name", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT task_name,
                   count(*) FILTER (WHERE status = 'SUCCESS'),
                   count(*) FILTER (WHERE status = 'FAILURE'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM date_done - date_started)),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM date_done - date_started))
            FROM django_celery_results_taskresult
            WHERE date_done >= %s AND status IN ('SUCCESS', 'FAILURE') AND task_name IS NOT NULL
            GROUP BY task_name
            """,
            [since],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    figures = []
    for name in sorted(set(rows) | set(retried)):
        succeeded, failed, p50, p95 = rows.get(name, (0, 0, None, None))
        figures.append(TaskFigures(name, succeeded, failed, retried.get(name, 0), p50, p95))
    return figures


def _hours(since: datetime, now: datetime) -> list[HourFigures]:
    """Tasks done in each of the last 24 hours, the oldest first (an hour with none is there too)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc('hour', date_done) AS hour,
                   count(*) FILTER (WHERE status = 'SUCCESS'),
                   count(*) FILTER (WHERE status = 'FAILURE')
            FROM django_celery_results_taskresult
            WHERE date_done >= %s AND status IN ('SUCCESS', 'FAILURE')
            GROUP BY hour
            """,
            [since],
        )
        counts = {hour: (ok, failed) for hour, ok, failed in cursor.fetchall()}
    last = now.replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=n) for n in range(23, -1, -1)]
    return [HourFigures(hour, *counts.get(hour, (0, 0))) for hour in hours]
