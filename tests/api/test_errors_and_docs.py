import subprocess
import sys

import pytest
import yaml
from django.db import OperationalError

from pro_platform.exceptions import ServiceUnavailable
from tests.servers import ROOT

pytestmark = pytest.mark.django_db


def test_unknown_url_is_404_in_the_error_shape(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


def test_wrong_method_is_405(customer_client):
    response = customer_client.delete("/api/v1/orders/")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_unexpected_error_is_500_in_the_error_shape(customer_client, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("orders.apis.order_list", boom)
    customer_client.raise_request_exception = False
    response = customer_client.get("/api/v1/orders/")
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
    }
    assert "exploded" not in response.content.decode()


def test_a_lost_database_connection_is_503_with_retry_after(customer_client, product, monkeypatch):
    def connection_lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("orders.apis.order_create", connection_lost)
    customer_client.raise_request_exception = False  # 5xx are reported (logged) as well as answered
    response = customer_client.post("/api/v1/orders/", {"items": [{"product_id": product.pk, "quantity": 1}]})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {"code": "service_unavailable", "detail": ServiceUnavailable.default_detail, "attr": None}
        ],
    }
    assert "server closed" not in response.content.decode()


def test_health_is_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect")

    monkeypatch.setattr("pro_platform.apis.connection.cursor", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "service_unavailable"


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/me/",
        "/api/v1/notifications/",
        "/api/v1/orders/{id}/events/",
        "/api/v1/payments/callback/",
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
        "/api/v1/orders/{id}/cancel/",
        "/api/v1/tasks/{task_id}/",
        "/api/v1/products/{id}/reviews/",
        "/api/v1/orders/{id}/ship/",
        "/api/v1/orders/{id}/deliver/",
        "/api/v1/orders/{id}/reviews/",
        "/api/v1/cart/",
        "/api/v1/cart/items/",
        "/api/v1/cart/items/{id}/",
        "/api/v1/cart/checkout/",
        "/api/v1/reports/daily/",
        "/api/v1/reports/{id}/",
        "/api/v1/reports/{id}/csv/",
    }
    create = paths["/api/v1/orders/"]["post"]
    assert {"201", "400", "401", "409", "415", "500", "503"} <= set(create["responses"])
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    components = schema["components"]["schemas"]
    assert error_codes(components, "OrdersCreateIdempotencyKeyErrorComponent") == ["max_length"]
    assert error_codes(components, "ServiceUnavailableError") == ["service_unavailable"]
    assert create["security"] == [{"jwtAuth": []}]
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    components = schema["components"]["schemas"]
    product_codes = components["OrdersCreateItemsINDEXProductIdErrorComponent"]["properties"]["code"]["enum"]
    assert {"product_unavailable", "duplicate_product"} <= set(product_codes)
    items_codes = components["OrdersCreateItemsErrorComponent"]["properties"]["code"]["enum"]
    assert {"mixed_currencies", "empty_order"} <= set(items_codes)
    assert "email_taken" in components["AuthRegisterEmailErrorComponent"]["properties"]["code"]["enum"]
    callback = paths["/api/v1/payments/callback/"]["post"]
    assert [p["name"] for p in callback["parameters"]] == ["X-Signature"]
    assert {"200", "202", "400"} <= set(callback["responses"])
    assert callback["security"] == [{}]  # no user authentication: the signature is the proof
    signature_codes = components["PaymentsCallbackX-SignatureErrorComponent"]["properties"]["code"]["enum"]
    assert set(signature_codes) == {
        "invalid_signature",
        "signature_malformed",
        "signature_missing",
        "timestamp_out_of_tolerance",
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert any(c.startswith("2") for c in codes), (path, method)
            assert any(c.startswith("4") for c in codes), (path, method)


def error_codes(components: dict, name: str) -> list[str]:
    code = components[name]["properties"]["code"]
    if "$ref" in code:
        code = components[code["$ref"].rsplit("/", 1)[1]]
    return code["enum"]


def test_docs_pages_are_served_from_the_sidecar(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    swagger = client.get("/api/docs/")
    assert swagger.status_code == 200
    assert b"drf_spectacular_sidecar/swagger-ui-dist" in swagger.content
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 200
    assert b"drf_spectacular_sidecar/redoc" in redoc.content
