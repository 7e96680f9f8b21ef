"""Payment-callback processing (seed 003 `process_payment_callback`), on the `payments` queue."""

from celery import Task, shared_task

from services.payments import payment_callback_process


# A database hiccup is retried with backoff (pro_platform.worker.OutboxTask); the callback
# stays `received` until applied. Five failed retries put it in the dead letters for staff.
@shared_task(bind=True, max_retries=5)
def process_payment_callback(self: Task, *, callback_id: int) -> str:
    return payment_callback_process(callback_id=callback_id)
