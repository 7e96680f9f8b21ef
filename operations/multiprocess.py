"""Prometheus' multiprocess mode, set up before any metric exists (settings call it).

Every process writes its counters to files in one directory and a scrape sums them.
Files are named by host and process id, not by process id alone: containers that share
the directory (compose mounts one volume into web and workers) each number their
processes from 1, and two processes must never write to the same file.
"""

import os
import socket
from pathlib import Path

from prometheus_client import values


def _process_identifier() -> str:
    # The file name's parts are separated by "_": keep them out of the identifier.
    return f"{socket.gethostname()}-{os.getpid()}".replace("_", "-")


def metrics_directory_use(directory: str) -> None:
    Path(directory).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # where prometheus_client looks
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)
