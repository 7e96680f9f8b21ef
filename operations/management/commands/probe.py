"""`manage.py probe worker|relay|beat`: exit 0 when that process on this host does its job.

For compose healthchecks and process supervisors:
- worker --queue Q: the worker named Q@<this host> answers over the broker and consumes Q;
- relay: the outbox relay of this host beat within --max-silence seconds (it beats on
  every pass, also while it waits for a broker or database that is down);
- beat: this host's beat ticked (or, as a standby, waited for the lock) within --max-silence.
"""

import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.heartbeats import BEAT, RELAY, heartbeat_age
from pro_platform.celery import app


class Command(BaseCommand):
    help = "Exit 0 when this host's worker, relay or beat is doing its job, 1 otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", choices=["worker", "relay", "beat"])
        parser.add_argument(
            "--queue", default="default", help="worker: the queue it consumes (named Q@host)."
        )
        parser.add_argument("--max-silence", type=float, default=30.0, help="relay, beat: seconds.")
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="worker: seconds to wait for its answer."
        )

    def handle(
        self, *args: Any, process: str, queue: str, max_silence: float, timeout: float, **options: Any
    ) -> None:
        problem = (
            self._worker(queue, timeout) if process == "worker" else self._heartbeat(process, max_silence)
        )
        if problem:
            raise CommandError(problem, returncode=1)
        self.stdout.write(f"{process}: ok")

    def _worker(self, queue: str, timeout: float) -> str:
        name = f"{queue}@{socket.gethostname()}"
        try:
            replies = app.control.inspect(destination=[name], timeout=timeout).active_queues() or {}
        except Exception as exc:  # the broker is unreachable
            return f"worker {name}: cannot ask ({type(exc).__name__}: {exc})"
        if name not in replies:
            return f"worker {name}: no answer within {timeout:g} s"
        if queue not in {q["name"] for q in replies[name]}:
            return f"worker {name}: answers but does not consume {queue}"
        return ""

    def _heartbeat(self, role: str, max_silence: float) -> str:
        age = heartbeat_age({"relay": RELAY, "beat": BEAT}[role], this_host=True)
        if age is None:
            return f"{role}: no heartbeat from this host ({socket.gethostname()})"
        if age.total_seconds() > max_silence:
            return f"{role}: silent for {age.total_seconds():.0f} s"
        return ""
