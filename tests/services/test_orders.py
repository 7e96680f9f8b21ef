from decimal import Decimal

import pytest

from messaging.routing import Priority
from notifications.models import Event, Notification
from orders.models import Currency, Order, OrderItem, OrderStatus, PaymentStatus, Product
from services.exceptions import (
    DuplicateProduct,
    EmptyOrder,
    InvalidTransition,
    MixedCurrencies,
    NotFound,
    OutOfStock,
    ProductUnavailable,
)
from services.orders import OrderLine, order_cancel, order_create
from testing.servers import run_concurrently
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_order_create_reserves_stock_snapshots_prices_and_records_notifications(customer):
    seller_a, seller_b = SellerFactory.create(), SellerFactory.create()
    mug = ProductFactory.create(seller=seller_a, price=Decimal("12.50"), stock=5)
    tea = ProductFactory.create(seller=seller_b, price=Decimal("3.20"), stock=100)

    order = order_create(customer=customer, items=[OrderLine(mug.pk, 2), OrderLine(tea.pk, 10)])

    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.total == Decimal("57.00")
    assert order.currency == Currency.USD
    assert [(i.product_id, i.quantity, i.unit_price) for i in order.items.all()] == [
        (mug.pk, 2, Decimal("12.50")),
        (tea.pk, 10, Decimal("3.20")),
    ]
    mug.refresh_from_db()
    tea.refresh_from_db()
    assert (mug.stock, tea.stock) == (3, 90)
    assert order.payment.amount == Decimal("57.00")
    assert order.payment.status == PaymentStatus.PENDING
    assert order.payment.reference.startswith("pay_")

    notifications = Notification.objects.filter(order=order).order_by("id")
    assert [(n.event, n.audience, n.recipient, n.priority) for n in notifications] == [
        (Event.ORDER_CREATED, "customer", customer.email, Priority.TRANSACTIONAL),
        (Event.ORDER_CREATED, "seller", seller_a.email, Priority.SELLER),
        (Event.ORDER_CREATED, "seller", seller_b.email, Priority.SELLER),
    ]
    assert all(n.status == "pending" and n.task_id for n in notifications)
    assert notifications[1].payload["items"] == [
        {"name": mug.name, "sku": mug.sku, "quantity": 2, "line_total": "25.00"}
    ]


def test_later_price_change_does_not_touch_the_order(customer, product):
    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    Product.objects.filter(pk=product.pk).update(price=Decimal("99.99"))
    order.refresh_from_db()
    assert order.items.get().unit_price == Decimal("10.00")
    assert order.total == Decimal("10.00")


@pytest.mark.parametrize(
    ("lines", "error", "field"),
    [
        ([], EmptyOrder, "items"),
        ([OrderLine(-1, 1)], ProductUnavailable, "items.0.product_id"),
        ("dup", DuplicateProduct, "items.1.product_id"),
        ("too_many", OutOfStock, "items.1.quantity"),
        ("inactive", ProductUnavailable, "items.1.product_id"),
        ("mixed", MixedCurrencies, "items"),
    ],
)
def test_order_create_rejects_and_writes_nothing(customer, lines, error, field):
    first = ProductFactory.create(stock=5)
    second = ProductFactory.create(stock=5)
    if lines == "dup":
        lines = [OrderLine(first.pk, 1), OrderLine(first.pk, 2)]
    elif lines == "too_many":
        lines = [OrderLine(first.pk, 5), OrderLine(second.pk, 6)]
    elif lines == "inactive":
        Product.objects.filter(pk=second.pk).update(is_active=False)
        lines = [OrderLine(first.pk, 1), OrderLine(second.pk, 1)]
    elif lines == "mixed":
        Product.objects.filter(pk=second.pk).update(currency=Currency.EUR)
        lines = [OrderLine(first.pk, 1), OrderLine(second.pk, 1)]

    with pytest.raises(error) as caught:
        order_create(customer=customer, items=lines)

    assert caught.value.field == field
    assert list(Product.objects.order_by("pk").values_list("stock", flat=True)) == [5, 5]
    assert Order.objects.count() == OrderItem.objects.count() == Notification.objects.count() == 0


def test_cancel_returns_stock_cancels_payment_and_notifies(customer):
    product = ProductFactory.create(stock=4)
    order = order_create(customer=customer, items=[OrderLine(product.pk, 3)])

    cancelled = order_cancel(order_id=order.pk, customer=customer)

    assert cancelled.status == OrderStatus.CANCELLED
    product.refresh_from_db()
    assert product.stock == 4
    assert cancelled.payment.status == PaymentStatus.CANCELLED
    assert (
        Notification.objects.filter(order=order, event=Event.ORDER_CANCELLED).count() == 2
    )  # customer, seller


def test_cancel_twice_is_an_invalid_transition_and_changes_nothing(customer):
    product = ProductFactory.create(stock=4)
    order = order_create(customer=customer, items=[OrderLine(product.pk, 3)])
    order_cancel(order_id=order.pk, customer=customer)

    with pytest.raises(InvalidTransition):
        order_cancel(order_id=order.pk, customer=customer)

    product.refresh_from_db()
    assert product.stock == 4  # not returned a second time
    assert Notification.objects.filter(event=Event.ORDER_CANCELLED).count() == 2


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PAYMENT_FAILED])
def test_cancel_is_refused_after_shipping_or_failed_payment(customer, status):
    product = ProductFactory.create(stock=4)
    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=order.pk).update(status=status)

    with pytest.raises(InvalidTransition):
        order_cancel(order_id=order.pk, customer=customer)

    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, product.stock) == (status, 3)


def test_cancel_is_allowed_for_a_paid_order(customer, product):
    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    assert order_cancel(order_id=order.pk, customer=customer).status == OrderStatus.CANCELLED


def test_someone_elses_order_cannot_be_cancelled(customer, product):
    order = order_create(customer=customer, items=[OrderLine(product.pk, 1)])
    with pytest.raises(NotFound):
        order_cancel(order_id=order.pk, customer=UserFactory.create())
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_orders_for_ten_items_sell_exactly_ten(empty_queues):
    product = ProductFactory.create(stock=10)
    customers = [UserFactory.create() for _ in range(20)]

    def buy(user):
        def attempt() -> str:
            try:
                order_create(customer=user, items=[OrderLine(product.pk, 1)])
            except OutOfStock:
                return "out_of_stock"
            return "ok"

        return attempt

    outcomes = run_concurrently([buy(user) for user in customers])

    assert sorted(outcomes) == ["ok"] * 10 + ["out_of_stock"] * 10
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == 10
    assert OrderItem.objects.filter(product=product).count() == 10
