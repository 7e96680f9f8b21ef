from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from notifications.models import Notification
from orders.models import Order, OrderItem, OrderStatus, Product
from orders.serializers import OrderOutputSerializer
from services.orders import OrderLine, order_create
from services.selectors.orders import order_get
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def nothing_written(*products: Product, stocks: list[int]) -> bool:
    current = [Product.objects.get(pk=p.pk).stock for p in products]
    return (
        current == stocks
        and Order.objects.count() == 0
        and OrderItem.objects.count() == 0
        and Notification.objects.count() == 0
    )


def test_create_order(customer_client, customer):
    mug = ProductFactory.create(price=Decimal("12.50"), stock=5)
    tea = ProductFactory.create(price=Decimal("3.20"), stock=50)

    response = customer_client.post(
        "/api/v1/orders/",
        {"items": [{"product_id": mug.pk, "quantity": 2}, {"product_id": tea.pk, "quantity": 1}]},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.pk
    assert order.customer == customer
    assert body["status"] == "pending_payment"
    assert body["total"] == "28.20"
    assert body["currency"] == "USD"
    assert [(i["product_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in body["items"]] == [
        (mug.pk, 2, "12.50", "25.00"),
        (tea.pk, 1, "3.20", "3.20"),
    ]
    assert body["payment"] == {
        "status": "pending",
        "amount": "28.20",
        "currency": "USD",
        "reference": order.payment.reference,
    }


def test_an_order_is_answered_as_its_declared_fields_say_whether_just_placed_or_read_again(customer):
    placed = order_create(
        customer=customer,
        items=[
            OrderLine(ProductFactory.create(price=Decimal("12.50")).pk, 2),
            OrderLine(ProductFactory.create(price=Decimal("0.10")).pk, 3),
        ],
    )
    read_again = order_get(user=customer, order_id=placed.pk)
    assert OrderOutputSerializer(placed).data == OrderOutputSerializer(read_again).data
    Order.objects.filter(pk=placed.pk).update(shipped_at=placed.created_at)
    shipped = order_get(user=customer, order_id=placed.pk)
    declared = serializers.Serializer.to_representation  # DRF's, from the declared fields

    for order in (placed, read_again, shipped):
        assert OrderOutputSerializer(order).data == declared(OrderOutputSerializer(order), order)
    answer = OrderOutputSerializer(shipped).data
    assert answer["shipped_at"] is not None
    assert answer["delivered_at"] is None
    assert [item["line_total"] for item in answer["items"]] == ["25.00", "0.30"]
    assert OrderOutputSerializer([shipped], many=True).data == [answer]


@pytest.mark.django_db(transaction=True)  # its own transaction, as in production
def test_placing_an_order_takes_ten_statements_whatever_its_size(customer_client):
    """The user with its profile; the transaction: lock the products, take their stock, the
    order, its payment details, its items, its notifications, their outbox rows. Nothing
    is read again for the answer."""
    products = ProductFactory.create_batch(3)
    body = {"items": [{"product_id": p.pk, "quantity": 1} for p in products]}

    with CaptureQueriesContext(connection) as captured:
        response = customer_client.post("/api/v1/orders/", body)

    assert response.status_code == 201, response.json()
    kinds = [" ".join(q["sql"].split()[:3]) for q in captured.captured_queries]
    assert len(kinds) == 10, kinds
    assert [k.split()[0] for k in kinds] == [
        "SELECT",  # the user, joined with its customer profile
        "BEGIN",
        "SELECT",  # the products, FOR UPDATE
        "UPDATE",  # their stock
        *["INSERT"] * 5,  # order, payment details, items, notifications, outbox
        "COMMIT",
    ]


def line(quantity: object = 1, product_id: object = "PRODUCT") -> dict:
    return {"product_id": product_id, "quantity": quantity}


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"items": []}, "items", "empty"),
        ({}, "items", "required"),
        ({"items": "mug"}, "items", "not_a_list"),
        ({"items": [line(product_id="abc")]}, "items.0.product_id", "invalid"),
        ({"items": [line(quantity=0)]}, "items.0.quantity", "min_value"),
        ({"items": [line(quantity=-3)]}, "items.0.quantity", "min_value"),
        ({"items": [line(quantity=10**9)]}, "items.0.quantity", "max_value"),
        ({"items": [line(quantity="many")]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": "PRODUCT"}]}, "items.0.quantity", "required"),
        ({"items": [line()] * 101}, "items", "max_length"),
    ],
)
def test_invalid_order_input_is_400_and_writes_nothing(customer_client, product, body, attr, code):
    for item in body.get("items", []) if isinstance(body.get("items"), list) else []:
        if item.get("product_id") == "PRODUCT":
            item["product_id"] = product.pk

    response = customer_client.post("/api/v1/orders/", body)

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert (response.json()["errors"][0]["attr"], response.json()["errors"][0]["code"]) == (attr, code)
    assert nothing_written(product, stocks=[10])


def test_duplicate_product_is_400(customer_client, product):
    response = customer_client.post(
        "/api/v1/orders/",
        {"items": [{"product_id": product.pk, "quantity": 1}, {"product_id": product.pk, "quantity": 2}]},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "duplicate_product",
        "detail": "Each product may appear only once in an order; add up the quantities instead.",
        "attr": "items.1.product_id",
    }
    assert nothing_written(product, stocks=[10])


def test_unknown_product_is_400(customer_client, product):
    response = customer_client.post(
        "/api/v1/orders/",
        {"items": [{"product_id": product.pk, "quantity": 1}, {"product_id": 999999, "quantity": 1}]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "product_unavailable",
                "detail": "This product does not exist or is not for sale.",
                "attr": "items.1.product_id",
            }
        ],
    }
    assert nothing_written(product, stocks=[10])


def test_insufficient_stock_is_409_with_no_stock_change(customer_client):
    plenty, scarce = ProductFactory.create(stock=10), ProductFactory.create(stock=2, sku="SCARCE")
    response = customer_client.post(
        "/api/v1/orders/",
        {"items": [{"product_id": plenty.pk, "quantity": 4}, {"product_id": scarce.pk, "quantity": 3}]},
    )
    assert response.status_code == 409
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "out_of_stock",
                "detail": "Only 2 of SCARCE left, 3 requested.",
                "attr": "items.1.quantity",
            }
        ],
    }
    assert nothing_written(plenty, scarce, stocks=[10, 2])


def test_malformed_json_is_400(customer_client, product):
    response = customer_client.post("/api/v1/orders/", data='{"items": [', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert nothing_written(product, stocks=[10])


def test_wrong_content_type_is_415(customer_client, product):
    response = customer_client.post(
        "/api/v1/orders/", data=f"items={product.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    assert nothing_written(product, stocks=[10])


def test_orders_need_a_token(api_client, product):
    response = api_client.post("/api/v1/orders/", {"items": [{"product_id": product.pk, "quantity": 1}]})
    assert response.status_code == 401
    assert nothing_written(product, stocks=[10])


def test_list_shows_only_own_orders_and_filters_by_status(customer_client, customer):
    product = ProductFactory.create(stock=100)
    mine = [order_create(customer=customer, items=[OrderLine(product.pk, 1)]) for _ in range(3)]
    order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
    Order.objects.filter(pk=mine[0].pk).update(status=OrderStatus.CANCELLED)

    body = customer_client.get("/api/v1/orders/").json()
    assert body["count"] == 3
    assert [o["id"] for o in body["results"]] == [o.pk for o in reversed(mine)]

    cancelled = customer_client.get("/api/v1/orders/?status=cancelled").json()
    assert [o["id"] for o in cancelled["results"]] == [mine[0].pk]
    assert customer_client.get("/api/v1/orders/?status=bogus").status_code == 400


def test_order_list_query_count_does_not_grow_with_orders(
    customer_client, customer, django_assert_max_num_queries
):
    products = ProductFactory.create_batch(3, stock=100)
    for _ in range(10):
        order_create(customer=customer, items=[OrderLine(p.pk, 1) for p in products])
    with django_assert_max_num_queries(5):
        response = customer_client.get("/api/v1/orders/")
    assert len(response.json()["results"]) == 10
    assert all(len(o["items"]) == 3 for o in response.json()["results"])


def test_another_customers_order_is_404(customer_client, product):
    theirs = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 1)])
    response = customer_client.get(f"/api/v1/orders/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    response = customer_client.post(f"/api/v1/orders/{theirs.pk}/cancel/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.PENDING_PAYMENT


def test_get_and_cancel_own_order(customer_client, customer, product):
    order = order_create(customer=customer, items=[OrderLine(product.pk, 4)])
    assert customer_client.get(f"/api/v1/orders/{order.pk}/").json()["status"] == "pending_payment"

    response = customer_client.post(f"/api/v1/orders/{order.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["payment"]["status"] == "cancelled"
    product.refresh_from_db()
    assert product.stock == 10

    again = customer_client.post(f"/api/v1/orders/{order.pk}/cancel/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_transition"
    assert again.json()["errors"][0]["attr"] == "status"
    product.refresh_from_db()
    assert product.stock == 10
