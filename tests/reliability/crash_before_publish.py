"""The API in a web process that dies right after a transaction commits, before it publishes.

Scenario 3 serves this with gunicorn: the first message the process is about to
publish makes it SIGKILL itself, the worst moment for a plain on_commit publish.
"""

import os
import signal
from typing import Any

from celery.signals import before_task_publish

from pro_platform.wsgi import application

__all__ = ["application"]


@before_task_publish.connect
def die_before_publishing(**kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)
