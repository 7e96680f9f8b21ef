"""The periodic jobs against real data, at their boundaries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from messaging.models import OutboxMessage, TrackedTask
from notifications.models import Event, Notification, NotificationStatus
from orders.models import (
    Cart,
    CartItem,
    IdempotencyRecord,
    Order,
    OrderStatus,
    PaymentStatus,
    Product,
    Review,
)
from orders.tasks import cleanup_old_carts, expire_unpaid_orders, forget_request_records, send_review_reminder
from pro_platform.celery import app
from services.notifications.delivery import render
from services.notifications.fanout import notifications_republish_stuck
from services.orders import OrderLine, order_create
from testing import servers
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def ago(**delta: float):
    return timezone.now() - timedelta(**delta)


# --- cleanup_old_carts -----------------------------------------------------------------------


def test_carts_untouched_for_longer_than_the_retention_are_deleted(settings, product):
    settings.CART_RETENTION_DAYS = 30

    def cart(last_touched) -> Cart:
        cart = Cart.objects.create(customer=UserFactory.create())
        CartItem.objects.create(cart=cart, product=product, quantity=1)
        Cart.objects.filter(pk=cart.pk).update(updated_at=last_touched)
        return cart

    stale = cart(ago(days=30, seconds=1))
    kept = cart(ago(days=30) + timedelta(seconds=5))

    assert cleanup_old_carts() == 1
    assert list(Cart.objects.all()) == [kept]
    assert not CartItem.objects.filter(cart_id=stale.pk).exists()
    assert cleanup_old_carts() == 0


# --- expire_unpaid_orders ----------------------------------------------------------------------


def test_orders_unpaid_past_the_timeout_are_cancelled_and_restocked(settings, customer):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 60
    product = ProductFactory.create(stock=10)

    def placed(at, status=OrderStatus.PENDING_PAYMENT) -> Order:
        order = order_create(customer=customer, items=[OrderLine(product.pk, 2)])
        Order.objects.filter(pk=order.pk).update(created_at=at, status=status)
        return order

    overdue = placed(ago(minutes=60, seconds=1))
    fresh = placed(ago(minutes=59))
    paid_long_ago = placed(ago(days=2), status=OrderStatus.PAID)

    assert expire_unpaid_orders() == 1

    statuses = dict(Order.objects.values_list("id", "status"))
    assert statuses == {
        overdue.pk: OrderStatus.CANCELLED,
        fresh.pk: OrderStatus.PENDING_PAYMENT,
        paid_long_ago.pk: OrderStatus.PAID,
    }
    assert Product.objects.get(pk=product.pk).stock == 10 - 2 * 2
    overdue.refresh_from_db()
    assert overdue.payment.status == PaymentStatus.CANCELLED
    assert Notification.objects.filter(order=overdue, event=Event.ORDER_CANCELLED).exists()
    assert expire_unpaid_orders() == 0


# --- send_review_reminder ----------------------------------------------------------------------


def test_a_review_reminder_goes_once_n_days_after_delivery_unless_reviewed(settings, product):
    settings.REVIEW_REMINDER_DAYS = 7

    def delivered(at) -> Order:
        order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED, delivered_at=at)
        return order

    due = delivered(ago(days=7))
    too_early = delivered(ago(days=7) + timedelta(seconds=30))
    reviewed = delivered(ago(days=9))
    Review.objects.create(customer=reviewed.customer, order=reviewed, product=product, rating=5)
    reminded = delivered(ago(days=8))
    Order.objects.filter(pk=reminded.pk).update(review_reminder_sent_at=ago(days=1))

    assert send_review_reminder() == 1
    assert send_review_reminder() == 0

    reminders = Notification.objects.filter(event=Event.REVIEW_REMINDER)
    assert list(reminders.values_list("order_id", "recipient")) == [(due.pk, due.customer.email)]
    due.refresh_from_db()
    assert due.review_reminder_sent_at is not None
    too_early.refresh_from_db()
    assert too_early.review_reminder_sent_at is None


def test_the_reminder_names_the_products_to_review(settings, product):
    settings.REVIEW_REMINDER_DAYS = 7
    order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED, delivered_at=ago(days=8))
    send_review_reminder()

    message = render(notification=Notification.objects.get(event=Event.REVIEW_REMINDER))
    assert message.subject == f"How was your order #{order.pk}?"
    assert f"- {product.name} ({product.sku})" in message.text


# --- send_pending_emails ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_only_notifications_stuck_in_pending_are_published_again(empty_queues, customer, product):
    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    servers.published()
    servers.purge_queues()  # as if the messages were lost
    stuck, waiting_retry = Notification.objects.filter(order=order).order_by("id")
    Notification.objects.filter(pk=stuck.pk).update(updated_at=ago(minutes=16))
    Notification.objects.filter(pk=waiting_retry.pk).update(
        updated_at=ago(minutes=16), next_retry_at=timezone.now() + timedelta(minutes=5)
    )
    fresh = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    servers.published()
    servers.purge_queues()
    in_outbox = Notification.objects.filter(order=fresh).order_by("id")[0]
    Notification.objects.filter(order=fresh).update(updated_at=ago(minutes=16))
    OutboxMessage.objects.filter(task_id=in_outbox.task_id).update(  # the relay's, later
        published_at=None, available_at=timezone.now() + timedelta(minutes=5)
    )
    sent = Notification.objects.filter(order=fresh).exclude(pk=in_outbox.pk).get()
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)

    assert notifications_republish_stuck(older_than=timedelta(minutes=15)) == 1
    assert notifications_republish_stuck(older_than=timedelta(minutes=15)) == 0  # given its time now

    (wire,) = servers.drain("notifications")
    assert (wire.headers["id"], wire.priority) == (stuck.task_id, stuck.priority)


# --- task results cleanup ----------------------------------------------------------------------


def test_backend_cleanup_deletes_task_results_past_their_expiry():
    TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.create(task_id="new", status="SUCCESS")
    TaskResult.objects.filter(task_id="old").update(
        date_done=timezone.now() - app.conf.result_expires - timedelta(minutes=1)
    )

    app.tasks["celery.backend_cleanup"]()

    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["new"]


# --- forget_request_records ------------------------------------------------------------------


def test_idempotency_keys_and_followed_tasks_are_forgotten_after_their_retention(settings, customer):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 24
    settings.CELERY_RESULT_EXPIRES = timedelta(days=7)

    def key(name: str, created_at) -> None:
        record = IdempotencyRecord.objects.create(
            user=customer, key=name, operation="POST /api/v1/orders/", fingerprint="f", status=201, body={}
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=created_at)

    def followed(task_id: str, created_at) -> None:
        TrackedTask.objects.create(task_id=task_id, requested_by=customer)
        TrackedTask.objects.filter(task_id=task_id).update(created_at=created_at)

    key("old", ago(hours=24, seconds=1))
    key("kept", ago(hours=24) + timedelta(seconds=5))
    followed("old", ago(days=7, seconds=1))
    followed("kept", ago(days=7) + timedelta(seconds=5))

    assert forget_request_records() == {"idempotency_keys": 1, "tracked_tasks": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["kept"]
    assert list(TrackedTask.objects.values_list("task_id", flat=True)) == ["kept"]
