import logging
import os
import select
import signal
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from messaging.dead_letters import dead_letters_collect
from messaging.relay import CommitListener, close_if_unusable_or_too_old, outbox_prune, outbox_relay_batch
from operations.heartbeats import RELAY, heartbeat_record

PRUNE_EVERY_SECONDS = 600

logger = logging.getLogger(__name__)


class StopRequest:
    """SIGTERM or SIGINT: `requested` is set and a wait in progress ends at once (the
    handler writes to a pipe the waits also watch), not at the end of its timeout."""

    def __init__(self) -> None:
        self.requested = False
        self.fileno, self._write = os.pipe()
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        os.write(self._write, b"\0")

    def wait(self, seconds: float) -> None:
        select.select([self.fileno], [], [], seconds)


class Command(BaseCommand):
    help = (
        "Publish outbox messages as their transactions commit (woken by PostgreSQL's LISTEN/NOTIFY), "
        "what a broker outage left behind and what is due after a long delay; move dead-lettered "
        "messages into the DeadLetter table. Safe to run several at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Relay what is due now, then exit.")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Longest wait for a commit; also how often dead letters are collected.",
        )
        parser.add_argument(
            "--max-backoff", type=float, default=10.0, help="Longest wait while broker or database is down."
        )
        parser.add_argument(
            "--publish-only",
            action="store_true",
            help="Only publish: leave dead letters and pruning to other relays.",
        )

    def handle(
        self,
        *args: Any,
        once: bool,
        batch_size: int,
        interval: float,
        max_backoff: float,
        publish_only: bool,
        **options: Any,
    ) -> None:
        stop = StopRequest()
        listener = CommitListener()
        backoff = interval
        self._last_collect = self._last_prune = -float("inf")
        self.stdout.write("outbox relay started")
        while not stop.requested:
            heartbeat_record(RELAY)  # for `manage.py probe relay`, also while it backs off
            dead = 0
            try:
                close_if_unusable_or_too_old()
                listener.listen()
                published = outbox_relay_batch(limit=batch_size)
                if not publish_only:
                    dead = self._housekeeping(batch_size, interval)
            except Exception as exc:  # broker or database down: kombu's errors share no base class
                what = "database" if isinstance(exc, DatabaseError) else "broker"
                self.stderr.write(
                    f"{what} unavailable ({type(exc).__name__}: {exc}); retrying in {backoff:.1f}s"
                )
                if once:
                    raise SystemExit(1) from exc
                connection.close()  # never reuse a broken database connection
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            backoff = interval
            if published:  # every commit under load: for debugging only
                logger.debug("published %d outbox message(s)", published)
            if dead:
                logger.warning("collected %d dead letter(s)", dead)
            if once and published < batch_size:
                return
            if published < batch_size:
                self._wait_for_commit(listener, interval, stop)

    def _housekeeping(self, batch_size: int, interval: float) -> int:
        """Collect dead letters every `interval` (not on every commit), prune now and then;
        return how many dead letters were collected."""
        dead = 0
        if time.monotonic() - self._last_collect >= interval:
            dead = dead_letters_collect(limit=batch_size)
            self._last_collect = time.monotonic()
        if time.monotonic() - self._last_prune > PRUNE_EVERY_SECONDS:
            outbox_prune(older_than=timedelta(hours=settings.OUTBOX_RETENTION_HOURS))
            self._last_prune = time.monotonic()
        return dead

    def _wait_for_commit(self, listener: CommitListener, timeout: float, stop: "StopRequest") -> None:
        try:
            listener.wait(timeout, interrupt=stop.fileno)
        except DatabaseError as exc:
            self.stderr.write(f"database unavailable ({type(exc).__name__}: {exc}); reconnecting")
            connection.close()
