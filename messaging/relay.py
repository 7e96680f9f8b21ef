"""The outbox relay's work (`manage.py outbox_relay`): publish committed outbox messages the
moment their transaction commits (woken by PostgreSQL's LISTEN/NOTIFY), what a broker outage
left behind, and what is due after a long delay; and forget what was published."""

import select
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.publishing import connect, forget_connection, send
from pro_platform.celery import app

# What the outbox table's trigger notifies at each commit that wrote to it (migration 0005).
CHANNEL = "outbox"
# A message is due from its `available_at`, written by the clock of the host that enqueued
# it: one running up to this much ahead of the relay's does not hold its messages back.
CLOCK_SKEW_ALLOWANCE = timedelta(seconds=1)


class BrokerUnavailable(Exception):
    pass


# The relay's two statements per batch, in SQL: it runs them on every commit of the platform.
# The claim walks the due index in its order. The planner prefers a bitmap scan, which visits
# every entry left behind by rows published since the last VACUUM, on every commit (after
# the bench's minutes of orders, commit -> task start grew by 4 ms); an index scan marks those
# entries dead once and skips them after (a claim: 1 ms, then 0.06 ms).
_TABLE = OutboxMessage._meta.db_table
_CLAIM = f"""
    SET LOCAL enable_bitmapscan = off;
    SELECT id, task_name, kwargs, task_id, priority, retries, eta, request_id FROM {_TABLE}
    WHERE published_at IS NULL AND available_at <= %s
    ORDER BY available_at, id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""
_MARK_PUBLISHED = f"UPDATE {_TABLE} SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(%s)"


def outbox_relay_batch(*, limit: int = 100, now: datetime | None = None) -> int:
    """Publish up to `limit` due messages; return how many were published.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays share the work, and
    marked in the same transaction, with one UPDATE. A row is due from its `available_at`
    (at once, or shortly before its ETA for a long delay) by `now`, or by this host's clock
    allowing for CLOCK_SKEW_ALLOWANCE. Raises BrokerUnavailable (after marking what was
    published) for the caller to back off.
    """
    due = now or timezone.now() + CLOCK_SKEW_ALLOWANCE
    published: list[int] = []
    failure: Exception | None = None
    with transaction.atomic():
        batch = list(OutboxMessage.objects.raw(_CLAIM, [due, limit]))
        if not batch:
            return 0
        with app.producer_or_acquire() as producer:
            try:
                connect(producer)
                for message in batch:
                    send(message, producer)
                    published.append(message.pk)
            except Exception as exc:
                forget_connection(producer)
                failure = exc
        with connection.cursor() as cursor:
            cursor.execute(_MARK_PUBLISHED, [published])
        if failure is not None:
            OutboxMessage.objects.filter(pk=batch[len(published)].pk).update(
                attempts=F("attempts") + 1, last_error=f"{type(failure).__name__}: {failure}"[:2000]
            )
    if failure is not None:
        raise BrokerUnavailable(f"published {len(published)}, then: {failure}") from failure
    return len(published)


class CommitListener:
    """Waits on the relay's own database connection for the outbox trigger's notifications.

    LISTEN belongs to a connection: whenever Django has opened a new one (after an error,
    or past CONN_MAX_AGE) `listen()` says it again. A notification that arrived while the
    relay was busy is already on the connection and ends the next wait at once, so no
    commit is missed; the timeout bounds the wait for what no trigger announces (a delay
    running out, a broker coming back).
    """

    def __init__(self) -> None:
        self._listening_on: object = None

    def listen(self) -> None:
        connection.ensure_connection()
        if connection.connection is not self._listening_on:
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            self._listening_on = connection.connection

    def wait(self, timeout: float, *, interrupt: int | None = None) -> bool:
        """Until a commit wrote outbox rows (True), `timeout` seconds passed or the file
        descriptor `interrupt` became readable (False)."""
        also = [] if interrupt is None else [interrupt]
        raw = connection.connection
        if raw is None or raw is not self._listening_on:
            select.select(also, [], [], timeout)
            return False
        if not raw.notifies:
            readable, _, _ = select.select([raw, *also], [], [], timeout)
            if raw in readable:
                with connection.wrap_database_errors:  # a broken connection raises here
                    raw.poll()
        woken = bool(raw.notifies)
        raw.notifies.clear()
        return woken


def close_if_unusable_or_too_old() -> None:
    """What Django does around each request, for a loop's own connection; only when needed.

    close_old_connections would also make the next query check the connection first
    (CONN_HEALTH_CHECKS): a round trip on every wake-up.
    """
    too_old = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or too_old:
        connection.close_if_unusable_or_obsolete()


def outbox_prune(*, older_than: timedelta) -> int:
    """Delete messages published longer ago than `older_than`; return how many."""
    deleted, _ = OutboxMessage.objects.filter(published_at__lt=timezone.now() - older_than).delete()
    return deleted
