"""Order tasks: payment callbacks (on the `payments` queue) and the periodic jobs of seed 003."""

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings

from services.carts import carts_delete_stale
from services.idempotency import idempotency_records_prune
from services.orders import orders_expire_unpaid
from services.payments import payment_callback_process
from services.reviews import review_reminders_send
from services.tasks import tracked_tasks_prune


# A database hiccup is retried with backoff (messaging.worker.OutboxTask); the callback
# stays `received` until applied. Five failed retries put it in the dead letters for staff.
@shared_task(bind=True, max_retries=5)
def process_payment_callback(self: Task, *, callback_id: int) -> str:
    return payment_callback_process(callback_id=callback_id)


@shared_task
def cleanup_old_carts() -> int:
    return carts_delete_stale(older_than=timedelta(days=settings.CART_RETENTION_DAYS))


@shared_task
def expire_unpaid_orders() -> int:
    return orders_expire_unpaid(older_than=timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES))


@shared_task
def send_review_reminder() -> int:
    return review_reminders_send(after=timedelta(days=settings.REVIEW_REMINDER_DAYS))


@shared_task
def forget_request_records() -> dict[str, int]:
    """What requests left behind to be replayed or followed, past its retention."""
    return {
        "idempotency_keys": idempotency_records_prune(
            older_than=timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
        ),
        "tracked_tasks": tracked_tasks_prune(older_than=settings.CELERY_RESULT_EXPIRES),
    }
