"""The Celery application: the one place where queues, routes and priorities live.

RabbitMQ delivers higher numbers first on a queue declared with x-max-priority.
Payment callbacks get their own queue so a notification backlog never delays
them; notifications share one queue and are ordered by message priority.

What a worker rejects (an undecodable message, an unknown task) goes to the
dead-letter exchange and its queue, from which the outbox relay moves it into
the DeadLetter table the admin shows. What is only needed inside worker
processes (the base task class, the consumer, a bootstep) lives in
pro_platform/worker.py and is named here by path, so web processes never load it.
"""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun, worker_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pro_platform.settings.base")

logger = logging.getLogger(__name__)

MAX_PRIORITY = 10


class Priority:
    """Message priorities, highest first (0..MAX_PRIORITY)."""

    PAYMENT = 10
    TRANSACTIONAL = 8  # order confirmation, payment outcome
    SELLER = 6  # seller notices
    DEFAULT = 5
    INFORMATIONAL = 3  # reminders, reports
    PERIODIC = 2


DEAD_LETTER_EXCHANGE = "dead_letters"
# Not a task queue: no worker consumes it (a worker started without -Q consumes every
# task queue, and would run poison messages again). The outbox relay drains it.
DEAD_LETTERS = Queue(
    "dead_letters",
    Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True),
    durable=True,
)


def _queue(name: str) -> Queue:
    return Queue(
        name,
        Exchange(name, type="direct", durable=True),
        routing_key=name,
        durable=True,
        queue_arguments={"x-max-priority": MAX_PRIORITY, "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE},
    )


QUEUE_NAMES = ("payments", "notifications", "default", "periodic")
QUEUES = tuple(_queue(name) for name in QUEUE_NAMES)

# Task name -> (queue, priority). A task missing here goes to `default` at DEFAULT.
ROUTES: dict[str, tuple[str, int]] = {
    "notifications.tasks.send_order_confirmation": ("notifications", Priority.TRANSACTIONAL),
    "notifications.tasks.send_seller_notification": ("notifications", Priority.SELLER),
    "notifications.tasks.send_notification": ("notifications", Priority.TRANSACTIONAL),
    "notifications.tasks.send_order_notification_task": ("notifications", Priority.SELLER),
    "notifications.tasks.send_failure_summary": ("notifications", Priority.TRANSACTIONAL),
    "orders.tasks.process_payment_callback": ("payments", Priority.PAYMENT),
    # Periodic jobs (celery beat): their own queue and worker, never in the way of the above.
    "notifications.tasks.send_pending_emails": ("periodic", Priority.PERIODIC),
    "orders.tasks.cleanup_old_carts": ("periodic", Priority.PERIODIC),
    "orders.tasks.expire_unpaid_orders": ("periodic", Priority.PERIODIC),
    "orders.tasks.send_review_reminder": ("periodic", Priority.PERIODIC),
    "orders.tasks.forget_request_records": ("periodic", Priority.PERIODIC),
    "reports.tasks.generate_daily_report": ("periodic", Priority.PERIODIC),
    "celery.backend_cleanup": ("periodic", Priority.PERIODIC),
}


def route_task(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **kw: Any
) -> dict:
    """Celery router: queue and priority by task name.

    Priorities live here rather than in `task_default_priority`: Celery copies that
    setting onto every task as its own priority, which would override the route.
    An explicit `priority=` at publish time still wins.
    """
    queue, priority = ROUTES.get(name, ("default", Priority.DEFAULT))
    return {"queue": queue, "routing_key": queue, "priority": priority}


app = Celery("pro_platform", task_cls="pro_platform.worker:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=QUEUES,
    task_default_queue="default",
    task_default_exchange="default",
    task_default_routing_key="default",
    task_queue_max_priority=MAX_PRIORITY,
    task_create_missing_queues=False,
    task_routes=(route_task,),
    worker_consumer="pro_platform.worker:DeadLetteringConsumer",
)
app.steps["consumer"].add("pro_platform.worker:DeclareDeadLetters")
app.autodiscover_tasks()


@task_failure.connect
def record_dead_letter(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    kwargs: Any = None,
    einfo: Any = None,
    **extra: Any,
) -> None:
    """A task that failed for good (retries spent, an error nobody retries, a time limit)."""
    from services.dead_letters import dead_letter_record_failure

    dead_letter_record_failure(
        task_name=getattr(sender, "name", str(sender)),
        task_id=task_id or "",
        kwargs=kwargs,
        exception=exception,
        traceback=str(einfo or ""),
        retries=getattr(getattr(sender, "request", None), "retries", 0) or 0,
        queue=(getattr(getattr(sender, "request", None), "delivery_info", None) or {}).get("routing_key", ""),
    )


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**kwargs: Any) -> None:
    """Around each task what Django does around each request: close a connection that is
    broken or older than CONN_MAX_AGE (settings: CELERY_DB_REUSE_MAX)."""
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def report_unreachable_services(**kwargs: Any) -> None:
    """Say in one line what is missing; Celery itself keeps retrying the broker."""
    from django.db import connection

    from pro_platform.preflight import check_broker, check_database

    for problem in filter(None, (check_database(), check_broker())):
        logger.error(problem)
    connection.close()  # not to be shared with the forked pool processes
