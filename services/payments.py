"""Payment details and provider callbacks: an idempotent inbox, applied exactly once.

A callback is verified and stored (PaymentCallback, unique event id) in one
transaction and processed by a worker from the highest-priority `payments` queue.
Processing locks the callback and the order, so the same event delivered twice,
or processed by two workers at once, is applied once; late or out-of-order events
are kept with the reason they were not applied.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.outbox import enqueue, new_task_id
from messaging.routing import Tasks
from notifications.models import Event
from orders.models import (
    CallbackState,
    CallbackStatus,
    Order,
    OrderPaymentDetails,
    OrderStatus,
    PaymentCallback,
    PaymentStatus,
)
from services import webhooks
from services.exceptions import InvalidRequest, NotFound
from services.notifications.fanout import staff_alert
from services.orders import order_lock, order_mark_paid, order_mark_payment_failed
from services.tasks import task_track


def payment_details_create(*, order: Order) -> OrderPaymentDetails:
    """A new order's payment details, for the order's amount (kept on `order.payment`)."""
    details = OrderPaymentDetails.objects.create(order=order, amount=order.total, currency=order.currency)
    order.payment = details
    return details


class UnknownPaymentReference(InvalidRequest):
    code = "unknown_payment_reference"
    message = "No order has this payment reference."


@dataclass(frozen=True)
class CallbackReceipt:
    callback: PaymentCallback
    duplicate: bool


@dataclass(frozen=True)
class CallbackData:
    event_id: str
    payment_reference: str
    status: str
    amount: Decimal
    currency: str
    failure_reason: str = ""


def payment_callback_verify(*, raw_body: bytes, signature: str | None) -> None:
    """Check the provider's signature on the raw bytes; raise an InvalidSignature otherwise."""
    webhooks.verify(
        header=signature,
        body=raw_body,
        secrets=settings.PAYMENT_WEBHOOK_SECRETS,
        tolerance=settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
    )


def payment_callback_receive(*, data: CallbackData, raw_body: bytes) -> CallbackReceipt:
    """Store a verified callback once and have it processed after commit.

    The same event id again is a duplicate: nothing new is stored or published.
    """
    existing = PaymentCallback.objects.filter(event_id=data.event_id).first()
    if existing is not None:
        return CallbackReceipt(existing, duplicate=True)
    details = OrderPaymentDetails.objects.filter(reference=data.payment_reference).first()
    if details is None:
        raise UnknownPaymentReference(field="payment_reference")
    try:
        with transaction.atomic():
            callback = PaymentCallback.objects.create(
                event_id=data.event_id,
                order_id=details.order_id,
                payment_reference=data.payment_reference,
                status=data.status,
                amount=data.amount,
                currency=data.currency,
                failure_reason=data.failure_reason,
                raw_body=raw_body.decode(),
                task_id=new_task_id(),
            )
            enqueue(
                Tasks.PROCESS_PAYMENT_CALLBACK,
                kwargs={"callback_id": callback.pk},
                task_id=callback.task_id,
            )
            task_track(task_id=callback.task_id)  # the provider is no user: staff follow it
    except IntegrityError:  # the same event arrived concurrently and won the insert
        return CallbackReceipt(PaymentCallback.objects.get(event_id=data.event_id), duplicate=True)
    return CallbackReceipt(callback, duplicate=False)


def payment_callback_process(*, callback_id: int) -> str:
    """Apply a stored callback to its order once; return the callback's state afterwards."""
    with transaction.atomic():
        try:
            callback = PaymentCallback.objects.select_for_update().get(pk=callback_id)
        except PaymentCallback.DoesNotExist:
            raise NotFound(f"payment callback {callback_id}") from None
        if callback.state != CallbackState.RECEIVED:
            return callback.state  # processed before: a redelivery or a second worker
        order = order_lock(order_id=callback.order_id)
        details = OrderPaymentDetails.objects.select_for_update().get(order=order)
        state, result = _apply(callback, order, details)
        callback.state, callback.result, callback.processed_at = state, result, timezone.now()
        callback.save(update_fields=["state", "result", "processed_at"])
    return state


def _apply(callback: PaymentCallback, order: Order, details: OrderPaymentDetails) -> tuple[str, str]:
    reported = f"{callback.amount} {callback.currency}"
    expected = f"{details.amount} {details.currency}"
    if callback.status == CallbackStatus.SUCCEEDED:
        if order.status != OrderStatus.PENDING_PAYMENT:
            # Money arrived for an order that no longer expects it: someone must refund or reconcile.
            return _flag(callback, order, details, f"payment succeeded but the order is {order.status}")
        if (callback.amount, callback.currency) != (details.amount, details.currency):
            return _flag(callback, order, details, f"paid {reported}, expected {expected}")
        order_mark_paid(order=order)
        details.status = PaymentStatus.SUCCEEDED
        details.paid_at = timezone.now()
        details.provider_data = _provider_data(callback)
        details.save(update_fields=["status", "paid_at", "provider_data", "updated_at"])
        return CallbackState.APPLIED, f"order {order.pk} paid ({reported})"

    if order.status != OrderStatus.PENDING_PAYMENT:
        return CallbackState.IGNORED, f"payment failure not applied: the order is already {order.status}"
    order_mark_payment_failed(order=order)
    details.status = PaymentStatus.FAILED
    details.provider_data = _provider_data(callback)
    details.save(update_fields=["status", "provider_data", "updated_at"])
    return (
        CallbackState.APPLIED,
        f"order {order.pk} payment failed: {callback.failure_reason or 'no reason given'}",
    )


def _provider_data(callback: PaymentCallback) -> dict[str, Any]:
    return {
        "event_id": callback.event_id,
        "status": callback.status,
        "amount": str(callback.amount),
        "currency": callback.currency,
        "failure_reason": callback.failure_reason,
    }


def _flag(
    callback: PaymentCallback, order: Order, details: OrderPaymentDetails, reason: str
) -> tuple[str, str]:
    details.flagged = True
    details.flag_reason = reason
    details.save(update_fields=["flagged", "flag_reason", "updated_at"])
    staff_alert(
        event=Event.PAYMENT_FLAGGED,
        payload={
            "order_id": order.pk,
            "event_id": callback.event_id,
            "reference": details.reference,
            "reason": reason,
        },
    )
    return CallbackState.FLAGGED, reason
