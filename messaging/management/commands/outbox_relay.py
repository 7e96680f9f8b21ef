import signal
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connection

from messaging.dead_letters import dead_letters_collect
from messaging.relay import outbox_prune, outbox_relay_batch
from operations.heartbeats import RELAY, heartbeat_record

PRUNE_EVERY_SECONDS = 600


class Command(BaseCommand):
    help = (
        "Publish outbox messages the after-commit fast path could not (broker down, process died) "
        "or that are due after a long delay, and move dead-lettered messages into the DeadLetter table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Relay what is due now, then exit.")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument(
            "--max-backoff", type=float, default=10.0, help="Longest wait while broker or database is down."
        )

    def handle(
        self, *args: Any, once: bool, batch_size: int, interval: float, max_backoff: float, **options: Any
    ) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        backoff = interval
        last_prune = 0.0
        self.stdout.write("outbox relay started")
        while not stopping:
            heartbeat_record(RELAY)  # for `manage.py probe relay`, also while it backs off
            try:
                close_old_connections()
                published = outbox_relay_batch(limit=batch_size)
                dead = dead_letters_collect(limit=batch_size)
                if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                    outbox_prune(older_than=timedelta(hours=settings.OUTBOX_RETENTION_HOURS))
                    last_prune = time.monotonic()
            except Exception as exc:  # broker or database down: kombu's errors share no base class
                what = "database" if isinstance(exc, DatabaseError) else "broker"
                self.stderr.write(
                    f"{what} unavailable ({type(exc).__name__}: {exc}); retrying in {backoff:.1f}s"
                )
                if once:
                    raise SystemExit(1) from exc
                connection.close()  # never reuse a broken database connection
                time.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            backoff = interval
            if published or dead:
                self.stdout.write(f"published {published} outbox message(s), collected {dead} dead letter(s)")
            if once and published < batch_size:
                return
            if published < batch_size:
                time.sleep(interval)
