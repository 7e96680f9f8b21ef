"""Payment-callback processing (seed 003 `process_payment_callback`), on the `payments` queue."""

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from services.payments import payment_callback_process

# A database hiccup is worth another try; the callback stays `received` until applied.
RETRYABLE = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE,
    max_retries=5,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
)
def process_payment_callback(self: Task, *, callback_id: int) -> str:
    return payment_callback_process(callback_id=callback_id)
