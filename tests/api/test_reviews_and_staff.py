"""Staff ship and deliver orders; customers review what was delivered to them."""

import pytest

from notifications.models import Audience, Event, Notification
from orders.models import Order, OrderStatus, Product, Review
from services.orders import OrderLine, order_create
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer, product) -> Order:
    other = ProductFactory.create(seller=product.seller)
    return order_create(customer=customer, items=[OrderLine(product.pk, 1), OrderLine(other.pk, 2)])


def paid(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    return order


def delivered(staff_client, order: Order) -> Order:
    paid(order)
    assert staff_client.post(f"/api/v1/orders/{order.pk}/ship/").status_code == 200
    assert staff_client.post(f"/api/v1/orders/{order.pk}/deliver/").status_code == 200
    return order


def review(client, order: Order, product: Product, rating: int = 5, text: str = "Lovely"):
    return client.post(
        f"/api/v1/orders/{order.pk}/reviews/", {"product_id": product.pk, "rating": rating, "text": text}
    )


def test_staff_ship_then_deliver_and_the_customer_hears_of_each(staff_client, order):
    paid(order)

    shipped = staff_client.post(f"/api/v1/orders/{order.pk}/ship/")
    assert shipped.status_code == 200
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["shipped_at"] is not None
    delivered_ = staff_client.post(f"/api/v1/orders/{order.pk}/deliver/")
    assert delivered_.json()["status"] == "delivered"
    assert delivered_.json()["delivered_at"] is not None

    events = Notification.objects.filter(order=order, audience=Audience.CUSTOMER)
    assert events.filter(event=Event.ORDER_SHIPPED).count() == 1  # e-mail (no Telegram chat here)
    assert events.filter(event=Event.ORDER_DELIVERED).count() == 1


def test_an_unpaid_order_cannot_be_shipped(staff_client, order):
    response = staff_client.post(f"/api/v1/orders/{order.pk}/ship/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    order.refresh_from_db()
    assert (order.status, order.shipped_at) == (OrderStatus.PENDING_PAYMENT, None)


def test_customers_cannot_ship_or_deliver(customer_client, order):
    paid(order)
    assert customer_client.post(f"/api/v1/orders/{order.pk}/ship/").status_code == 403
    assert customer_client.post(f"/api/v1/orders/{order.pk}/deliver/").status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_delivered_product_is_reviewed_once_and_shows_its_rating(
    customer_client, staff_client, api_client, order, product
):
    delivered(staff_client, order)

    created = review(customer_client, order, product, rating=4, text="Sturdy")
    assert created.status_code == 201
    assert created.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "product_id": product.pk,
        "order_id": order.pk,
        "rating": 4,
        "text": "Sturdy",
        "created_at": "",
    }
    other_customer_order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=other_customer_order.pk).update(status=OrderStatus.DELIVERED)
    Review.objects.create(
        customer=other_customer_order.customer, order=other_customer_order, product=product, rating=5
    )

    again = review(customer_client, order, product, rating=1)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_reviewed"

    listed = api_client.get(f"/api/v1/products/{product.pk}/reviews/").json()
    assert [(r["rating"], r["text"]) for r in listed["results"]] == [(5, ""), (4, "Sturdy")]
    assert "customer" not in listed["results"][0]
    shown = api_client.get(f"/api/v1/products/{product.pk}/").json()
    assert (shown["average_rating"], shown["review_count"]) == ("4.50", 2)


def test_an_undelivered_order_cannot_be_reviewed(customer_client, order, product):
    paid(order)
    response = review(customer_client, order, product)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "order_not_delivered"
    assert Review.objects.count() == 0


def test_only_products_of_the_order_and_only_ones_own_order(customer_client, staff_client, api_client, order):
    delivered(staff_client, order)
    stranger = ProductFactory.create()
    response = review(customer_client, order, stranger)
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "product_not_in_order",
        "detail": "",
        "attr": "product_id",
    }
    api_client.force_authenticate(UserFactory.create())
    assert review(api_client, order, order.items.first().product).status_code == 404
    assert Review.objects.count() == 0


@pytest.mark.parametrize("rating", [0, 6])
def test_a_rating_is_1_to_5(customer_client, staff_client, order, product, rating):
    delivered(staff_client, order)
    response = review(customer_client, order, product, rating=rating)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "rating"
    assert Review.objects.count() == 0


def test_a_product_without_reviews_has_no_average(api_client, product):
    body = api_client.get(f"/api/v1/products/{product.pk}/").json()
    assert (body["average_rating"], body["review_count"]) == (None, 0)
    assert api_client.get(f"/api/v1/products/{product.pk}/reviews/").json()["count"] == 0
    assert api_client.get("/api/v1/products/999999/reviews/").status_code == 404
