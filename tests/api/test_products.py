from decimal import Decimal

import pytest

from orders.models import Product
from tests.factories import ProductFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_catalogue_is_public_paginated_and_hides_inactive(api_client):
    ProductFactory.create_batch(25)
    ProductFactory.create(is_active=False)

    first = api_client.get("/api/v1/products/").json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/products/?page=2")

    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert {p["id"] for p in first["results"]} | {p["id"] for p in second["results"]} == set(
        Product.objects.filter(is_active=True).values_list("id", flat=True)
    )


def test_catalogue_search_filters_and_ordering(api_client):
    acme, other = SellerFactory.create(name="Acme"), SellerFactory.create(name="Other")
    cheap = ProductFactory.create(seller=acme, name="Blue mug", price=Decimal("5.00"))
    dear = ProductFactory.create(seller=acme, name="Red mug", price=Decimal("50.00"))
    ProductFactory.create(seller=other, name="Teapot", price=Decimal("20.00"))

    def ids(query: str) -> list[int]:
        response = api_client.get(f"/api/v1/products/?{query}")
        assert response.status_code == 200, response.json()
        return [p["id"] for p in response.json()["results"]]

    assert ids("search=mug&ordering=-price") == [dear.pk, cheap.pk]
    assert ids(f"seller={acme.pk}&ordering=price") == [cheap.pk, dear.pk]
    assert ids("min_price=10&max_price=50&search=mug") == [dear.pk]
    assert ids("search=acme&ordering=name") == [cheap.pk, dear.pk]


def test_product_detail(api_client, product):
    body = api_client.get(f"/api/v1/products/{product.pk}/").json()
    assert body["sku"] == product.sku
    assert body["price"] == "10.00"
    assert body["seller"] == {"id": product.seller.pk, "name": product.seller.name}
    assert api_client.get("/api/v1/products/999999/").status_code == 404


def test_staff_create_and_update_products(staff_client, seller):
    created = staff_client.post(
        "/api/v1/products/",
        {
            "seller_id": seller.pk,
            "name": "Kettle",
            "sku": "KET-1",
            "price": "30.00",
            "currency": "EUR",
            "stock": 3,
        },
    )
    assert created.status_code == 201, created.json()
    product = Product.objects.get(sku="KET-1")
    assert (product.price, product.currency, product.stock) == (Decimal("30.00"), "EUR", 3)

    updated = staff_client.patch(f"/api/v1/products/{product.pk}/", {"stock": 7, "price": "28.50"})
    assert updated.status_code == 200, updated.json()
    product.refresh_from_db()
    assert (product.stock, product.price) == (7, Decimal("28.50"))


def test_staff_product_validation(staff_client, product):
    response = staff_client.post(
        "/api/v1/products/",
        {"seller_id": product.seller_id, "name": "Dup", "sku": product.sku, "price": "0", "stock": -1},
    )
    assert response.status_code == 400
    assert {(e["attr"], e["code"]) for e in response.json()["errors"]} == {
        ("sku", "unique"),
        ("price", "invalid"),  # "0": the schema's pattern says a price is positive
        ("stock", "min_value"),
    }
    assert Product.objects.count() == 1


def test_a_product_created_without_a_currency_is_priced_in_usd(staff_client, seller):
    response = staff_client.post(
        "/api/v1/products/",
        {"seller_id": seller.pk, "name": "Plain mug", "sku": "MUG-PLAIN", "price": "9.90"},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["currency"], response.json()["stock"]) == ("USD", 0)
    assert Product.objects.get(sku="MUG-PLAIN").currency == "USD"


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", 5), ("price", 9.9), ("price", "1e2"), ("stock", "5"), ("is_active", "yes"), ("seller_id", "1")],
)
def test_product_fields_take_only_the_json_types_the_schema_names(staff_client, seller, field, value):
    body = {"seller_id": seller.pk, "name": "Mug", "sku": "MUG-T", "price": "9.90", field: value}
    response = staff_client.post("/api/v1/products/", body)
    assert response.status_code == 400
    code = "incorrect_type" if field == "seller_id" else "invalid"  # DRF's code for a related field
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert not Product.objects.filter(sku="MUG-T").exists()


def test_customers_cannot_write_products(customer_client, product):
    assert customer_client.post("/api/v1/products/", {"name": "x"}).status_code == 403
    response = customer_client.patch(f"/api/v1/products/{product.pk}/", {"stock": 0})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    product.refresh_from_db()
    assert product.stock == 10


def test_a_nul_character_in_the_search_separates_words(api_client, product):
    response = api_client.get("/api/v1/products/", {"search": f"{product.name[:3]}\x00"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [product.pk]


@pytest.mark.parametrize(
    ("query", "attr", "code"),
    [
        ("seller=", "seller", "invalid"),
        ("seller=1.0", "seller", "invalid"),
        ("seller=0", "seller", "min_value"),
        ("min_price=", "min_price", "invalid"),
        ("max_price=-1", "max_price", "min_value"),
        ("currency=", "currency", "invalid_choice"),
        ("page=0", "page", "min_value"),
        ("page_size=101", "page_size", "max_value"),
        ("page=x", "page", "invalid"),
    ],
)
def test_query_parameters_outside_the_schema_are_400(api_client, product, query, attr, code):
    response = api_client.get(f"/api/v1/products/?{query}")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]


def test_a_page_past_the_last_is_404(api_client, product):
    assert api_client.get("/api/v1/products/?page=2").json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(("price", "status"), [("999999.99", 201), ("1000000.00", 400), ("1000000", 400)])
def test_a_price_is_at_most_999999_99_so_that_every_order_total_fits(staff_client, seller, price, status):
    body = {"seller_id": seller.pk, "name": "Vase", "sku": f"VASE-{price}", "price": price}
    assert staff_client.post("/api/v1/products/", body).status_code == status
