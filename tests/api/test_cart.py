from decimal import Decimal

import pytest

from orders.models import Cart, CartItem, Order, Product
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug() -> Product:
    return ProductFactory.create(price=Decimal("12.50"), stock=5)


@pytest.fixture
def tea() -> Product:
    return ProductFactory.create(price=Decimal("3.20"), stock=50)


def add(client, product: Product, quantity: int):
    return client.post("/api/v1/cart/items/", {"product_id": product.pk, "quantity": quantity})


def test_an_empty_cart(customer_client):
    assert customer_client.get("/api/v1/cart/").json() == {"items": [], "totals": [], "updated_at": None}


def test_adding_products_and_reading_the_cart_at_todays_prices(customer_client, mug, tea):
    assert add(customer_client, mug, 1).status_code == 201
    add(customer_client, tea, 10)
    response = add(customer_client, mug, 2)  # the same product again: quantities add up

    assert response.status_code == 201
    body = customer_client.get("/api/v1/cart/").json()
    assert body == response.json()
    assert [(i["product_id"], i["quantity"], i["line_total"], i["available"]) for i in body["items"]] == [
        (mug.pk, 3, "37.50", True),
        (tea.pk, 10, "32.00", True),
    ]
    assert body["totals"] == [{"currency": "USD", "amount": "69.50"}]
    Product.objects.filter(pk=mug.pk).update(price=Decimal("10.00"), stock=2)
    item = customer_client.get("/api/v1/cart/").json()["items"][0]
    assert (item["unit_price"], item["line_total"], item["available"]) == ("10.00", "30.00", False)


def test_changing_and_removing_items(customer_client, mug, tea):
    add(customer_client, mug, 1)
    item_id = add(customer_client, tea, 1).json()["items"][1]["id"]

    changed = customer_client.patch(f"/api/v1/cart/items/{item_id}/", {"quantity": 4})
    assert changed.status_code == 200
    assert [i["quantity"] for i in changed.json()["items"]] == [1, 4]
    unchanged = customer_client.patch(f"/api/v1/cart/items/{item_id}/", {})
    assert unchanged.status_code == 200
    assert unchanged.json() == changed.json()
    assert customer_client.delete(f"/api/v1/cart/items/{item_id}/").status_code == 204
    assert [i["product_id"] for i in customer_client.get("/api/v1/cart/").json()["items"]] == [mug.pk]


def test_another_customers_cart_item_is_404(customer_client, api_client, mug):
    other = UserFactory.create()
    api_client.force_authenticate(other)
    item_id = add(api_client, mug, 1).json()["items"][0]["id"]

    assert customer_client.patch(f"/api/v1/cart/items/{item_id}/", {"quantity": 2}).status_code == 404
    assert customer_client.delete(f"/api/v1/cart/items/{item_id}/").status_code == 404
    assert CartItem.objects.get(pk=item_id).quantity == 1


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"product_id": 999999, "quantity": 1}, "product_id", "product_unavailable"),
        ({"product_id": None, "quantity": 0}, "quantity", "min_value"),
    ],
)
def test_bad_cart_input_is_400_and_writes_nothing(customer_client, mug, body, attr, code):
    if body["product_id"] is None:
        body["product_id"] = mug.pk
    response = customer_client.post("/api/v1/cart/items/", body)
    assert response.status_code == 400
    assert (response.json()["errors"][0]["attr"], response.json()["errors"][0]["code"]) == (attr, code)
    assert CartItem.objects.count() == 0


def test_an_inactive_product_cannot_be_added(customer_client):
    hidden = ProductFactory.create(is_active=False)
    response = add(customer_client, hidden, 1)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "product_unavailable"


def test_checkout_places_the_order_like_post_orders_and_empties_the_cart(customer_client, customer, mug, tea):
    add(customer_client, mug, 2)
    add(customer_client, tea, 1)

    response = customer_client.post("/api/v1/cart/checkout/")

    assert response.status_code == 201
    order = Order.objects.get(customer=customer)
    assert response.json()["id"] == order.pk
    assert response.json()["total"] == "28.20"
    assert [(i["product_id"], i["quantity"]) for i in response.json()["items"]] == [(mug.pk, 2), (tea.pk, 1)]
    mug.refresh_from_db()
    assert mug.stock == 3
    assert customer_client.get("/api/v1/cart/").json()["items"] == []
    assert order.notifications.count() == 3  # as for POST /orders/: the customer and both sellers


def test_checkout_over_stock_is_409_and_keeps_cart_and_stock(customer_client, mug, tea):
    add(customer_client, tea, 1)
    add(customer_client, mug, 6)

    response = customer_client.post("/api/v1/cart/checkout/")

    assert response.status_code == 409
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "out_of_stock",
        "detail": "",
        "attr": "items.1.quantity",
    }
    assert Order.objects.count() == 0
    assert len(customer_client.get("/api/v1/cart/").json()["items"]) == 2
    mug.refresh_from_db()
    assert mug.stock == 5


def test_checkout_of_an_empty_cart_is_409(customer_client):
    response = customer_client.post("/api/v1/cart/checkout/")
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"code": "cart_empty", "detail": "Your cart is empty.", "attr": None}
    ]
    assert Order.objects.count() == 0


def test_the_cart_needs_a_token(api_client):
    assert api_client.get("/api/v1/cart/").status_code == 401
    assert Cart.objects.count() == 0


def test_a_cart_holds_at_most_1000_of_a_product(customer_client, mug):
    assert add(customer_client, mug, 600).status_code == 201
    refused = add(customer_client, mug, 401)
    assert refused.status_code == 409
    assert refused.json()["errors"][0] | {"detail": ""} == {
        "code": "cart_quantity_limit",
        "detail": "",
        "attr": "quantity",
    }
    assert add(customer_client, mug, 400).json()["items"][0]["quantity"] == 1000


def test_a_cart_holds_at_most_100_products(customer_client, monkeypatch):
    monkeypatch.setattr("services.carts.MAX_ORDER_LINES", 2)
    products = ProductFactory.create_batch(3)
    assert [add(customer_client, p, 1).status_code for p in products[:2]] == [201, 201]
    refused = add(customer_client, products[2], 1)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "cart_full"
    assert len(customer_client.get("/api/v1/cart/").json()["items"]) == 2
