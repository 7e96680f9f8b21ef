"""The Celery application: the one place where queues, routes and priorities live.

RabbitMQ delivers higher numbers first on a queue declared with x-max-priority.
Payment callbacks get their own queue so a notification backlog never delays
them; notifications share one queue and are ordered by message priority.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pro_platform.settings.base")

MAX_PRIORITY = 10


class Priority:
    """Message priorities, highest first (0..MAX_PRIORITY)."""

    PAYMENT = 10
    TRANSACTIONAL = 8  # order confirmation, payment outcome
    SELLER = 6  # seller notices
    DEFAULT = 5
    INFORMATIONAL = 3  # reminders, reports
    PERIODIC = 2


def _queue(name: str) -> Queue:
    return Queue(
        name,
        Exchange(name, type="direct", durable=True),
        routing_key=name,
        durable=True,
        queue_arguments={"x-max-priority": MAX_PRIORITY},
    )


QUEUE_NAMES = ("payments", "notifications", "default", "periodic")
QUEUES = tuple(_queue(name) for name in QUEUE_NAMES)

# Task name -> queue and default priority. A task missing here goes to `default`.
ROUTES: dict[str, dict[str, str | int]] = {
    "notifications.tasks.send_order_confirmation": {
        "queue": "notifications",
        "routing_key": "notifications",
        "priority": Priority.TRANSACTIONAL,
    },
    "notifications.tasks.send_seller_notification": {
        "queue": "notifications",
        "routing_key": "notifications",
        "priority": Priority.SELLER,
    },
    "notifications.tasks.send_notification": {
        "queue": "notifications",
        "routing_key": "notifications",
        "priority": Priority.TRANSACTIONAL,
    },
}

app = Celery("pro_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=QUEUES,
    task_default_queue="default",
    task_default_exchange="default",
    task_default_routing_key="default",
    task_default_priority=Priority.DEFAULT,
    task_queue_max_priority=MAX_PRIORITY,
    task_create_missing_queues=False,
    task_routes=ROUTES,
)
app.autodiscover_tasks()
