"""The API in a web process that dies the moment an order's transaction commits.

Scenario 3 serves this with gunicorn: right after the first order commits, before anything
else happens (the answer, or, with the control's plain on_commit, the publish), the process
SIGKILLs itself. With the outbox the web process publishes nothing anyway: the relay,
woken by the commit, must deliver. Without it the tasks are lost.
"""

import os
import signal
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from pro_platform.wsgi import application  # first: it sets Django up before any model loads

# isort: split
from orders.models import Order

__all__ = ["application"]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_when_committed(sender: type[Order], created: bool, **kwargs: Any) -> None:
    if created:  # the first after-commit callback of the order's transaction
        transaction.on_commit(die)


post_save.connect(die_when_committed, sender=Order, weak=False)
