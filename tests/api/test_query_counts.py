"""No N+1: every list endpoint runs as many queries for twelve rows as for one."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from notifications.models import Event
from orders.models import Order, OrderStatus, Product, Review
from services.carts import cart_item_add
from services.notifications.fanout import order_notify
from services.orders import OrderLine, order_create
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def place(customer: User) -> Order:
    products = ProductFactory.create_batch(2)
    return order_create(customer=customer, items=[OrderLine(p.pk, 1) for p in products])


def reviewed(product: Product) -> None:
    """Another customer's delivered order of `product`, and their review of it."""
    reviewer = UserFactory.create()
    order = order_create(customer=reviewer, items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    Review.objects.create(customer=reviewer, order=order, product=product, rating=4)


@pytest.fixture
def product_under_review(db: None) -> Product:
    return ProductFactory.create(stock=100)


LISTS: dict[str, tuple[Callable[[User, Product], object], Callable[[Product], str]]] = {
    "products": (lambda customer, _: reviewed(ProductFactory.create()), lambda _: "/api/v1/products/"),
    "product reviews": (lambda _, product: reviewed(product), lambda p: f"/api/v1/products/{p.pk}/reviews/"),
    "orders": (lambda customer, _: place(customer), lambda _: "/api/v1/orders/"),
    "notifications": (lambda customer, _: place(customer), lambda _: "/api/v1/notifications/"),
    "cart": (
        lambda customer, _: cart_item_add(
            customer=customer, product_id=ProductFactory.create().pk, quantity=1
        ),
        lambda _: "/api/v1/cart/",
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_a_list_costs_the_same_queries_for_one_row_as_for_twelve(
    customer_client, customer, product_under_review, name
):
    grow, url = LISTS[name]
    grow(customer, product_under_review)
    one = queries(customer_client, url(product_under_review))
    for _ in range(11):
        grow(customer, product_under_review)
    assert queries(customer_client, url(product_under_review)) == one


def test_the_order_timeline_costs_the_same_for_many_side_effects(customer_client, customer):
    order = place(customer)
    url = f"/api/v1/orders/{order.pk}/events/"
    one = queries(customer_client, url)
    for _ in range(5):
        order_notify(order=order, event=Event.ORDER_SHIPPED)
    assert queries(customer_client, url) == one
