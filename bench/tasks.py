"""Reference tasks for the benchmarks, registered only where bench.settings is used."""

import socket
import time

from celery import shared_task


@shared_task
def noop() -> None:
    """The cost of a Celery task itself: receive, run nothing, store the result, acknowledge."""


@shared_task
def probe(*, port: int) -> None:
    """Reports (by UDP to the harness) the time this task started."""
    started = time.time()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(repr(started).encode(), ("127.0.0.1", port))
