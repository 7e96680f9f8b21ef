"""The API in a web process that dies right after a transaction commits, before it publishes.

Scenario 3 serves this with gunicorn: the first time the process is about to publish,
it SIGKILLs itself, the worst moment for a publish on commit. Both ways of publishing
are covered: the outbox's publisher and Celery's send_task (the control's plain on_commit).
"""

import os
import signal
from typing import Any

from celery.signals import before_task_publish

from pro_platform.wsgi import application  # first: it sets Django up before any model loads

# isort: split
from messaging import outbox

__all__ = ["application"]


@before_task_publish.connect
def die_before_publishing(*args: Any, **kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


outbox.send = die_before_publishing  # the fast path's publish
