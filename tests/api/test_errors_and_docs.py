import subprocess
import sys

import pytest
import yaml
from django.core.cache import cache
from django.db import OperationalError
from rest_framework.throttling import ScopedRateThrottle

from orders.models import Order
from pro_platform.apis import SchemaApi
from pro_platform.exceptions import ServiceUnavailable
from testing.servers import ROOT

pytestmark = pytest.mark.django_db


def error(status: int, code: str, detail: str) -> dict:
    return {
        "type": "client_error" if status < 500 else "server_error",
        "errors": [{"code": code, "detail": detail, "attr": None}],
    }


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings) -> bool:
    """Each answer below holds whatever DJANGO_DEBUG says."""
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/v1/orders/abc/", "/api/v1/orders/1/nope/", "/api/elsewhere"]
)
def test_unknown_routes_and_malformed_ids_are_404_in_the_error_shape(client, debug, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == error(404, "not_found", "Not found.")


def test_wrong_method_is_405_with_allow(customer_client, debug):
    response = customer_client.delete("/api/v1/orders/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_wrong_media_type_is_415(customer_client, debug):
    response = customer_client.post(
        "/api/v1/orders/", "items=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_413_and_never_read(customer_client, debug, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"items": [' + ", ".join(['{"product_id": 1, "quantity": 1}'] * 40) + "]}"
    response = customer_client.post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == error(413, "request_too_large", "The request body is larger than 1000 bytes.")
    assert Order.objects.count() == 0


def test_a_signed_callback_over_the_limit_is_413(client, debug, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post("/api/v1/payments/callback/", "x" * 101, content_type="application/json")
    assert response.status_code == 413


def test_throttled_is_429_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "1/minute"})
    cache.clear()
    body = {"email": "x@example.com", "password": "a-long-enough-pass"}
    api_client.post("/api/v1/auth/register/", body)
    response = api_client.post("/api/v1/auth/register/", body)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["errors"][0]["code"] == "throttled"


def test_an_unexpected_error_is_500_with_the_request_id_and_no_traceback(customer_client, debug, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("orders.apis.order_list", boom)
    customer_client.raise_request_exception = False
    response = customer_client.get("/api/v1/orders/", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-42"
    assert response.json() == error(500, "error", "Server error. Quote request id req-42 when reporting it.")
    assert "exploded" not in response.content.decode()


def test_every_answer_carries_a_request_id(client):
    mine = client.get("/api/v1/products/", HTTP_X_REQUEST_ID="abc-123")
    assert mine["X-Request-ID"] == "abc-123"
    fresh = client.get("/api/v1/products/", HTTP_X_REQUEST_ID="not sane\n" * 30)
    assert fresh["X-Request-ID"] != "abc-123"
    assert len(fresh["X-Request-ID"]) == 32


def test_the_admin_and_the_docs_keep_their_html(client, debug):
    assert client.get("/api/docs/")["Content-Type"].startswith("text/html")
    assert client.get("/admin/login/")["Content-Type"].startswith("text/html")
    assert client.get("/admin/nothing-here/")["Content-Type"].startswith("text/html")


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


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(out.read_text())


def operations(schema: dict):
    for path, by_method in schema["paths"].items():
        for method, operation in by_method.items():
            yield path, method, operation


def test_the_schema_lists_every_operation(schema):
    assert set(schema["paths"]) == {
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/logout/",
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
        "/api/v1/requests/{request_id}/",
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


def test_every_operation_has_a_summary_a_description_and_its_errors(schema):
    for path, method, operation in operations(schema):
        assert operation.get("summary"), (path, method)
        assert len(operation.get("description", "")) > len(operation["summary"]), (path, method)
        codes = set(operation["responses"])
        assert any(c.startswith("2") for c in codes), (path, method)
        assert {"405", "413", "500", "503"} <= codes, (path, method)


def test_public_operations_say_so_and_the_others_require_a_token(schema):
    public = {
        (path, method)
        for path, method, operation in operations(schema)
        if {} in operation.get("security", [{}])
    }
    assert public == {
        ("/api/v1/auth/register/", "post"),
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/auth/token/refresh/", "post"),
        ("/api/v1/auth/logout/", "post"),
        ("/api/v1/products/", "get"),
        ("/api/v1/products/{id}/", "get"),
        ("/api/v1/products/{id}/reviews/", "get"),
    }
    assert schema["paths"]["/api/v1/orders/"]["post"]["security"] == [{"jwtAuth": []}]
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_the_order_operations_document_their_codes_and_constraints(schema):
    components = schema["components"]["schemas"]
    create = schema["paths"]["/api/v1/orders/"]["post"]
    assert {"201", "400", "401", "409", "413", "415", "500", "503"} <= set(create["responses"])
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    assert create["parameters"][0]["schema"] == {"type": "string", "maxLength": 255}
    assert error_codes(components, "OrdersCreateIdempotencyKeyErrorComponent") == ["max_length"]
    conflict = ref(schema, create["responses"]["409"]["content"]["application/json"]["schema"])
    assert error_codes(components, ref_name(conflict["properties"]["errors"]["items"])) == [
        "out_of_stock",
        "idempotency_key_reused",
    ]
    product_codes = components["OrdersCreateItemsINDEXProductIdErrorComponent"]["properties"]["code"]["enum"]
    assert {"product_unavailable", "duplicate_product"} <= set(product_codes)
    items_codes = components["OrdersCreateItemsErrorComponent"]["properties"]["code"]["enum"]
    assert {"mixed_currencies", "empty"} <= set(items_codes)  # [] is refused by the field (empty)
    assert "empty_order" not in items_codes  # the service's own check is never reached through the API
    items = components["OrderCreateInputRequest"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 100)
    line = components["OrderLineInputRequest"]["properties"]
    assert (line["quantity"]["minimum"], line["quantity"]["maximum"]) == (1, 1000)
    assert response_codes(schema, create["responses"]["503"]) == ["service_unavailable"]


def test_auth_operations_document_the_password_policy_and_their_401s(schema):
    components = schema["components"]["schemas"]
    password = components["RegisterInputRequest"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (8, 128)
    assert "at least 8 characters" in password["description"]
    assert {"min_length", "password_too_common", "password_too_similar", "password_entirely_numeric"} <= set(
        components["AuthRegisterPasswordErrorComponent"]["properties"]["code"]["enum"]
    )
    assert "email_taken" in components["AuthRegisterEmailErrorComponent"]["properties"]["code"]["enum"]
    token_401 = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["401"]
    assert response_codes(schema, token_401) == ["no_active_account"]
    refresh_401 = schema["paths"]["/api/v1/auth/token/refresh/"]["post"]["responses"]["401"]
    assert response_codes(schema, refresh_401) == ["token_not_valid", "no_active_account"]
    orders_401 = schema["paths"]["/api/v1/orders/"]["get"]["responses"]["401"]
    assert "token_not_valid" in response_codes(schema, orders_401)


def test_the_payment_callback_documents_its_signature(schema):
    callback = schema["paths"]["/api/v1/payments/callback/"]["post"]
    assert callback["security"] == [{"paymentSignature": []}]
    assert schema["components"]["securitySchemes"]["paymentSignature"]["name"] == "X-Signature"
    assert {"200", "202", "400", "401"} <= set(callback["responses"])
    assert set(response_codes(schema, callback["responses"]["401"])) == {
        "invalid_signature",
        "signature_malformed",
        "signature_missing",
        "timestamp_out_of_tolerance",
    }
    assert set(callback["responses"]["202"]["headers"]) == {"Location", "Retry-After"}


def ref_name(schema_or_ref: dict) -> str:
    return schema_or_ref["$ref"].rsplit("/", 1)[1]


def ref(schema: dict, schema_or_ref: dict) -> dict:
    return (
        schema["components"]["schemas"][ref_name(schema_or_ref)] if "$ref" in schema_or_ref else schema_or_ref
    )


def response_codes(schema: dict, response: dict) -> list[str]:
    body = ref(schema, response["content"]["application/json"]["schema"])
    return error_codes(schema["components"]["schemas"], ref_name(body["properties"]["errors"]["items"]))


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


def test_each_language_gets_its_own_schema_and_any_other_the_default(client, settings):
    def schema(**query: str) -> dict:
        return client.get("/api/schema/", query, HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    default, ukrainian = schema(), schema(lang="uk")
    assert ukrainian != default  # Django's own texts, translated
    assert set(ukrainian["paths"]) == set(default["paths"])
    assert schema(lang="en") == default == schema(lang="x" * 99) == schema(version="2.0-evil")
    assert default["info"]["version"] == "1.0.0"
    # A process keeps one schema per language Django knows: no query makes it keep more.
    assert set(SchemaApi._generated) <= {code for code, _ in settings.LANGUAGES} | {settings.LANGUAGE_CODE}


def test_answers_link_to_what_a_client_can_do_next(schema):
    operation_ids = {operation["operationId"] for _, _, operation in operations(schema)}
    links = {
        (operation["operationId"], status, name): link
        for _, _, operation in operations(schema)
        for status, response in operation["responses"].items()
        for name, link in response.get("links", {}).items()
    }
    assert links[("orders_create", "201", "ReviewOrder")] == {
        "operationId": "orders_review",
        "parameters": {"id": "$response.body#/id"},
    }
    assert {link["operationId"] for link in links.values()} <= operation_ids
    assert len(links) == 15
