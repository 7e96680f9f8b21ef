"""Idempotency-Key with Stripe's semantics, on both operations that place an order."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification
from orders.models import IdempotencyRecord, Order, Product
from services.exceptions import IdempotencyKeyReused
from testing.auth import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def order_body(product: Product, quantity: int = 2) -> dict:
    return {"items": [{"product_id": product.pk, "quantity": quantity}]}


def place(client: APIClient, body: dict, key: str):
    return client.post("/api/v1/orders/", body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_key_replays_the_first_answer_and_places_nothing(customer_client, product):
    first = place(customer_client, order_body(product), "order-7f3a")
    again = place(customer_client, order_body(product), "order-7f3a")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Notification.objects.count() == 2  # the customer's and the seller's, once
    product.refresh_from_db()
    assert product.stock == 8


def test_the_replay_is_the_stored_answer_even_after_the_order_changed(customer_client, product):
    first = place(customer_client, order_body(product), "k-stable")
    customer_client.post(f"/api/v1/orders/{first.json()['id']}/cancel/")

    again = place(customer_client, order_body(product), "k-stable")

    assert again.json() == first.json()
    assert again.json()["status"] == "pending_payment"  # the first answer, as it was


def test_a_key_is_the_customers_own(customer_client, product):
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=bearer(UserFactory.create()))
    assert place(customer_client, order_body(product, 1), "k1").status_code == 201
    assert place(other, order_body(product, 1), "k1").status_code == 201
    assert Order.objects.count() == 2


def test_the_key_with_other_parameters_is_409_and_writes_nothing(customer_client, product):
    place(customer_client, order_body(product, 1), "k2")

    response = place(customer_client, order_body(product, 3), "k2")

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {
            "code": "idempotency_key_reused",
            "detail": IdempotencyKeyReused.message,
            "attr": "idempotency_key",
        }
    ]
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 9


def test_the_key_on_another_operation_is_409_not_the_first_order(customer_client, product):
    place(customer_client, order_body(product, 1), "k3")
    customer_client.post("/api/v1/cart/items/", {"product_id": product.pk, "quantity": 1})

    response = customer_client.post("/api/v1/cart/checkout/", HTTP_IDEMPOTENCY_KEY="k3")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert len(customer_client.get("/api/v1/cart/").json()["items"]) == 1  # the cart is untouched


def test_a_retried_checkout_replays_its_order(customer_client, product):
    customer_client.post("/api/v1/cart/items/", {"product_id": product.pk, "quantity": 1})
    first = customer_client.post("/api/v1/cart/checkout/", HTTP_IDEMPOTENCY_KEY="checkout-1")
    again = customer_client.post("/api/v1/cart/checkout/", HTTP_IDEMPOTENCY_KEY="checkout-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_a_failed_request_is_not_remembered_and_its_retry_runs(customer_client, product):
    refused = place(customer_client, order_body(product, 11), "k4")  # 10 in stock
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "out_of_stock"
    assert IdempotencyRecord.objects.count() == 0

    Product.objects.filter(pk=product.pk).update(stock=20)
    retried = place(customer_client, order_body(product, 11), "k4")

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Order.objects.count() == 1


def test_a_key_older_than_the_retention_is_forgotten(customer_client, product, settings):
    place(customer_client, order_body(product, 1), "k5")
    IdempotencyRecord.objects.update(
        created_at=IdempotencyRecord.objects.get().created_at
        - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS, seconds=1)
    )

    again = place(customer_client, order_body(product, 1), "k5")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_an_overlong_key_is_400_and_writes_nothing(customer_client, product):
    response = place(customer_client, order_body(product, 1), "k" * 256)

    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "max_length",
        "detail": "",
        "attr": "idempotency_key",
    }
    assert Order.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
