"""THE routing table: every queue, and every task's queue and priority, in one place.

RabbitMQ delivers higher numbers first on a queue declared with x-max-priority.
Payment callbacks get their own queue so a notification backlog never delays
them; notifications share one queue and are ordered by message priority.

What a worker rejects (an undecodable message, an unknown task) goes to the
dead-letter exchange and its queue, from which the outbox relay moves it into
the DeadLetter table the admin shows.

Plain data and kombu declarations: the Celery app (pro_platform/celery.py), the
publishers and the broker checks all read it, and it imports nothing of theirs.
"""

from typing import Any

from kombu import Exchange, Queue

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
