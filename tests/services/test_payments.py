from decimal import Decimal

import pytest

from notifications.models import Audience, Event, Notification
from orders.models import CallbackState, Order, OrderStatus, PaymentCallback, PaymentStatus, Product
from services.orders import OrderLine, order_cancel, order_create
from services.payments import CallbackData, payment_callback_process, payment_callback_receive
from testing.servers import run_concurrently
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(settings) -> Order:
    settings.ADMINS = [("Ops", "ops@example.com")]
    product = ProductFactory.create(stock=5, price=Decimal("12.50"))
    return order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 2)])


def receive(order: Order, event_id: str, status: str = "succeeded", **overrides: object) -> PaymentCallback:
    data = {
        "event_id": event_id,
        "payment_reference": order.payment.reference,
        "status": status,
        "amount": order.payment.amount,
        "currency": order.payment.currency,
        **overrides,
    }
    return payment_callback_receive(data=CallbackData(**data), raw_body=b"{}").callback  # type: ignore[arg-type]


def events(order: Order, event: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(order=order, event=event).values_list("audience", "channel"))


def test_success_pays_the_order_records_the_provider_and_notifies(order):
    callback = receive(order, "evt_ok")

    assert payment_callback_process(callback_id=callback.pk) == CallbackState.APPLIED

    order.refresh_from_db()
    order.payment.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.status == PaymentStatus.SUCCEEDED
    assert order.payment.paid_at is not None
    assert order.payment.provider_data == {
        "event_id": "evt_ok",
        "status": "succeeded",
        "amount": "25.00",
        "currency": "USD",
        "failure_reason": "",
    }
    callback.refresh_from_db()
    assert (callback.state, callback.result) == ("applied", f"order {order.pk} paid (25.00 USD)")
    assert callback.processed_at is not None
    assert events(order, Event.ORDER_PAID) == [("customer", "email"), ("seller", "email")]


def test_failure_marks_payment_failed_and_returns_the_stock(order):
    product = Product.objects.get()
    assert product.stock == 3
    callback = receive(order, "evt_fail", status="failed", failure_reason="card declined")

    assert payment_callback_process(callback_id=callback.pk) == CallbackState.APPLIED

    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.payment.status, product.stock) == ("payment_failed", "failed", 5)
    callback.refresh_from_db()
    assert callback.result == f"order {order.pk} payment failed: card declined"
    assert events(order, Event.ORDER_PAYMENT_FAILED) == [("customer", "email"), ("seller", "email")]


def test_processing_twice_applies_once(order):
    callback = receive(order, "evt_twice")
    assert payment_callback_process(callback_id=callback.pk) == CallbackState.APPLIED
    assert payment_callback_process(callback_id=callback.pk) == CallbackState.APPLIED
    assert len(events(order, Event.ORDER_PAID)) == 2  # customer and seller, once each


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount": Decimal("24.99")}, "paid 24.99 USD, expected 25.00 USD"),
        ({"currency": "EUR"}, "paid 25.00 EUR, expected 25.00 USD"),
    ],
)
def test_a_mismatch_flags_the_payment_and_alerts_staff(order, overrides, reason):
    callback = receive(order, "evt_odd", **overrides)

    assert payment_callback_process(callback_id=callback.pk) == CallbackState.FLAGGED

    order.refresh_from_db()
    order.payment.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert (order.payment.status, order.payment.flagged, order.payment.flag_reason) == (
        "pending",
        True,
        reason,
    )
    callback.refresh_from_db()
    assert (callback.state, callback.result) == ("flagged", reason)
    alert = Notification.objects.get(event=Event.PAYMENT_FLAGGED)
    assert (alert.audience, alert.recipient) == (Audience.ADMINS, "ops@example.com")
    assert alert.payload["reason"] == reason
    assert events(order, Event.ORDER_PAID) == []


def test_a_late_failure_after_success_is_recorded_not_applied(order):
    payment_callback_process(callback_id=receive(order, "evt_paid").pk)
    late = receive(order, "evt_late_fail", status="failed")

    assert payment_callback_process(callback_id=late.pk) == CallbackState.IGNORED

    order.refresh_from_db()
    late.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.status == PaymentStatus.SUCCEEDED
    assert late.result == "payment failure not applied: the order is already paid"
    assert Product.objects.get().stock == 3


def test_a_success_after_a_failure_is_flagged_for_a_refund(order):
    payment_callback_process(callback_id=receive(order, "evt_f", status="failed").pk)
    late = receive(order, "evt_s")
    assert payment_callback_process(callback_id=late.pk) == CallbackState.FLAGGED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAYMENT_FAILED
    assert Notification.objects.filter(event=Event.PAYMENT_FLAGGED).exists()


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_callbacks_for_a_cancelled_order_never_change_it(order, status):
    order_cancel(order_id=order.pk)
    callback = receive(order, f"evt_after_cancel_{status}", status=status)

    state = payment_callback_process(callback_id=callback.pk)

    order.refresh_from_db()
    callback.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.payment.status == PaymentStatus.CANCELLED
    assert Product.objects.get().stock == 5  # returned once, by the cancellation
    assert state == (CallbackState.FLAGGED if status == "succeeded" else CallbackState.IGNORED)
    assert "cancelled" in callback.result


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_one_callback_apply_it_once(empty_queues, settings):
    settings.ADMINS = []
    product = ProductFactory.create(stock=5)
    order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
    callback = receive(order, "evt_race")
    states = run_concurrently([lambda: payment_callback_process(callback_id=callback.pk)] * 8)

    assert states == ["applied"] * 8
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(events(order, Event.ORDER_PAID)) == 2
