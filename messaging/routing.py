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
class Tasks:
    """Every task's name as it travels on the wire (the seeds' names). Call sites name tasks by
    these constants, never by a string of their own."""

    PROCESS_PAYMENT_CALLBACK = "orders.tasks.process_payment_callback"
    SEND_ORDER_CONFIRMATION = "notifications.tasks.send_order_confirmation"
    SEND_SELLER_NOTIFICATION = "notifications.tasks.send_seller_notification"
    SEND_ORDER_NOTIFICATION = "notifications.tasks.send_order_notification_task"  # the managers' alert
    SEND_NOTIFICATION = "notifications.tasks.send_notification"
    SEND_FAILURE_SUMMARY = "notifications.tasks.send_failure_summary"
    SEND_PENDING_EMAILS = "notifications.tasks.send_pending_emails"
    CLEANUP_OLD_CARTS = "orders.tasks.cleanup_old_carts"
    EXPIRE_UNPAID_ORDERS = "orders.tasks.expire_unpaid_orders"
    SEND_REVIEW_REMINDER = "orders.tasks.send_review_reminder"
    FORGET_REQUEST_RECORDS = "orders.tasks.forget_request_records"
    GENERATE_DAILY_REPORT = "reports.tasks.generate_daily_report"
    BACKEND_CLEANUP = "celery.backend_cleanup"


# Task name -> (queue, priority). A task missing here goes to `default` at DEFAULT. The priority
# is the one a message gets when its publisher names none (a replayed dead letter, for one).
ROUTES: dict[str, tuple[str, int]] = {
    Tasks.PROCESS_PAYMENT_CALLBACK: ("payments", Priority.PAYMENT),
    Tasks.SEND_ORDER_CONFIRMATION: ("notifications", Priority.TRANSACTIONAL),
    Tasks.SEND_SELLER_NOTIFICATION: ("notifications", Priority.SELLER),
    Tasks.SEND_ORDER_NOTIFICATION: ("notifications", Priority.SELLER),
    Tasks.SEND_NOTIFICATION: ("notifications", Priority.TRANSACTIONAL),
    Tasks.SEND_FAILURE_SUMMARY: ("notifications", Priority.TRANSACTIONAL),
    # Periodic jobs (celery beat): their own queue and worker, never in the way of the above.
    Tasks.SEND_PENDING_EMAILS: ("periodic", Priority.PERIODIC),
    Tasks.CLEANUP_OLD_CARTS: ("periodic", Priority.PERIODIC),
    Tasks.EXPIRE_UNPAID_ORDERS: ("periodic", Priority.PERIODIC),
    Tasks.SEND_REVIEW_REMINDER: ("periodic", Priority.PERIODIC),
    Tasks.FORGET_REQUEST_RECORDS: ("periodic", Priority.PERIODIC),
    Tasks.GENERATE_DAILY_REPORT: ("periodic", Priority.PERIODIC),
    Tasks.BACKEND_CLEANUP: ("periodic", Priority.PERIODIC),
}

# A report a person asked for (POST reports/daily/) jumps ahead of the nightly jobs on `periodic`.
REQUESTED_REPORT_PRIORITY = Priority.INFORMATIONAL

# Each notification's task and priority, by (event, audience): notifications.models' Event and
# Audience values. Its queue is its task's, above. Who hears of an event, over which channels,
# is the business's decision (services/notifications/routes.py); how urgently, this table's.
_CUSTOMER, _SELLER = Tasks.SEND_ORDER_CONFIRMATION, Tasks.SEND_SELLER_NOTIFICATION
NOTIFICATION_ROUTES: dict[tuple[str, str], tuple[str, int]] = {
    ("order_created", "customer"): (_CUSTOMER, Priority.TRANSACTIONAL),
    ("order_created", "seller"): (_SELLER, Priority.SELLER),
    ("order_created", "managers"): (Tasks.SEND_ORDER_NOTIFICATION, Priority.SELLER),
    ("order_paid", "customer"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("order_paid", "seller"): (_SELLER, Priority.SELLER),
    ("order_payment_failed", "customer"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("order_payment_failed", "seller"): (_SELLER, Priority.SELLER),
    ("order_cancelled", "customer"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("order_cancelled", "seller"): (_SELLER, Priority.SELLER),
    ("order_shipped", "customer"): (Tasks.SEND_NOTIFICATION, Priority.INFORMATIONAL),
    ("order_delivered", "customer"): (Tasks.SEND_NOTIFICATION, Priority.INFORMATIONAL),
    ("review_reminder", "customer"): (Tasks.SEND_NOTIFICATION, Priority.INFORMATIONAL),
    ("delivery_failed", "admins"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("delivery_failures", "admins"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("payment_flagged", "admins"): (Tasks.SEND_NOTIFICATION, Priority.TRANSACTIONAL),
    ("daily_report", "staff"): (Tasks.SEND_NOTIFICATION, Priority.INFORMATIONAL),
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
