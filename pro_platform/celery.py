"""The Celery application: created here, configured from Django's settings (CELERY_*) and
from messaging/routing.py (queues, routes, priorities). Nothing more: what runs inside
workers (the task base class, the consumer, signal receivers) lives in messaging/.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from messaging.routing import MAX_PRIORITY, QUEUES, route_task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pro_platform.settings.base")

app = Celery("pro_platform", task_cls="messaging.worker:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=QUEUES,
    task_default_queue="default",
    task_default_exchange="default",
    task_default_routing_key="default",
    task_queue_max_priority=MAX_PRIORITY,
    task_create_missing_queues=False,
    task_routes=(route_task,),
    worker_consumer="messaging.worker:DeadLetteringConsumer",
)
app.steps["consumer"].add("messaging.worker:DeclareDeadLetters")
app.steps["worker"].add("django_structlog.celery.steps:DjangoStructLogInitStep")  # task log context
app.autodiscover_tasks()


@setup_logging.connect
def leave_logging_to_django(**kwargs: Any) -> None:
    """Django configures logging from settings.LOGGING (structured lines); Celery adds nothing."""
