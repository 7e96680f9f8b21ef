"""How the OpenAPI schema describes every operation, so that it says exactly what the API does.

On top of drf-standardized-errors' schema (one error shape, error codes per status):

- every operation has a summary (the first line of its docstring) and a description;
- an operation anyone may call says so (`{}` among its security requirements);
- paginated lists document the error codes of `page` and `page_size`;
- `error_responses()` gives an operation its own 404 and 409 codes, and
  `error_response_serializer()` builds the documented body for a list of codes;
- postprocessing hooks write list-index error attrs as patterns and add LINKS between
  operations (what a client can do next with an answer).
"""

import re
from collections.abc import Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from inflection import camelize
from rest_framework import serializers
from rest_framework.request import Request

from pro_platform.pagination import PAGE_ERROR_CODES

_ERROR_TYPES = {True: ServerErrorEnum.choices, False: ClientErrorEnum.choices}


def error_response_serializer(status: int, codes: Sequence[str], name: str = "") -> serializers.Serializer:
    """The documented body of an error answer that carries one of `codes`."""
    return _error_response_serializer(status, tuple(codes), name or "".join(camelize(c) for c in codes))


@cache  # one component per body: the schema must not see two classes of one name
def _error_response_serializer(status: int, codes: tuple[str, ...], name: str) -> serializers.Serializer:
    error = inline_serializer(
        name=f"{name}Error{status}",
        fields={
            "code": serializers.ChoiceField(choices=list(codes)),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True, help_text="The field at fault, or null."),
        },
        many=True,
    )
    return inline_serializer(
        name=f"{name}ErrorResponse{status}",
        fields={"type": serializers.ChoiceField(choices=_ERROR_TYPES[status >= 500]), "errors": error},
    )


def error_responses(
    *, not_found: Sequence[str] = (), conflict: Sequence[str] = ()
) -> dict[int, OpenApiResponse]:
    """An operation's own 404 and 409 codes, for `extend_schema(responses=...)`."""
    responses = {}
    if not_found:
        responses[404] = OpenApiResponse(
            error_response_serializer(404, not_found), description="Not found (or not yours)."
        )
    if conflict:
        responses[409] = OpenApiResponse(
            error_response_serializer(409, conflict), description="The current state does not allow it."
        )
    return responses


# JWTAuthentication's refusals on any operation that reads a bearer token.
AUTHENTICATION_ERROR_CODES = (
    "not_authenticated",
    "bad_authorization_header",
    "token_not_valid",
    "user_not_found",
    "user_inactive",
)


# Documented on every operation (DRF_STANDARDIZED_ERRORS["ERROR_SCHEMAS"]).
UNAUTHORIZED = error_response_serializer(401, AUTHENTICATION_ERROR_CODES, "Authentication")
REQUEST_TOO_LARGE = error_response_serializer(413, ["request_too_large"])
SERVER_ERROR = error_response_serializer(500, ["error"], "Server")
# The database connection was lost mid-request: retry after Retry-After seconds (a new order
# with the same Idempotency-Key, so that it is never placed twice).
SERVICE_UNAVAILABLE = error_response_serializer(503, ["service_unavailable"])


class ApiAutoSchema(AutoSchema):
    def get_summary(self) -> str | None:
        return super().get_summary() or (self.get_description() or "").strip().split("\n")[0].strip() or None

    def get_auth(self) -> list[dict[str, Any]]:
        auth = super().get_auth()
        if auth and {} not in auth and self._anonymous_allowed():
            auth.append({})
        return auth

    def _anonymous_allowed(self) -> bool:
        # What the permissions see of a request with no credentials (they read these only).
        anonymous = cast(Request, SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None))
        return all(p.has_permission(anonymous, self.view) for p in self.view.get_permissions())

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        errors = super()._get_extra_validation_errors()
        if self._is_list_view() and self._get_paginator() is not None:
            errors = {**PAGE_ERROR_CODES, **errors}
        return errors


def indexed_attrs_as_patterns(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: an error inside a list names its index (`items.3.product_id`).

    drf-standardized-errors documents such `attr`s as `items.INDEX.product_id`, a value the
    API never sends; here they become patterns, and the unions they are in lose their
    discriminator (a discriminator needs exact values; `oneOf` still picks the one match).
    """
    for schema in result.get("components", {}).get("schemas", {}).values():
        attr = schema.get("properties", {}).get("attr", {})
        if any("INDEX" in value for value in attr.get("enum") or ()):
            alternatives = "|".join(re.escape(value).replace("INDEX", r"\d+") for value in attr["enum"])
            schema["properties"]["attr"] = {"type": "string", "pattern": f"^(?:{alternatives})$"}
        mapping = schema.get("discriminator", {}).get("mapping", {})
        if any("INDEX" in value for value in mapping):
            del schema["discriminator"]
    return result


# What a client can do next with what an answer returns (OpenAPI links): client generators
# show them, and the contract fuzzer follows them (create an order, then read, cancel, review it).
# (operation, status) -> [(link name, operation it leads to, path parameter, where the answer has it)]
LINKS = {
    ("orders_create", "201"): [
        ("GetOrder", "orders_retrieve", "id", "$response.body#/id"),
        ("CancelOrder", "orders_cancel", "id", "$response.body#/id"),
        ("ReviewOrder", "orders_review", "id", "$response.body#/id"),
        ("GetOrderEvents", "orders_events_list", "id", "$response.body#/id"),
    ],
    ("cart_checkout", "201"): [
        ("GetOrder", "orders_retrieve", "id", "$response.body#/id"),
        ("CancelOrder", "orders_cancel", "id", "$response.body#/id"),
    ],
    ("cart_items_create", "201"): [
        ("ChangeItem", "cart_items_partial_update", "id", "$response.body#/items/0/id"),
        ("RemoveItem", "cart_items_destroy", "id", "$response.body#/items/0/id"),
    ],
    ("products_create", "201"): [
        ("GetProduct", "products_retrieve", "id", "$response.body#/id"),
        ("ChangeProduct", "products_partial_update", "id", "$response.body#/id"),
        ("GetProductReviews", "products_reviews_list", "id", "$response.body#/id"),
    ],
    ("reports_request", "202"): [
        ("GetReport", "reports_retrieve", "id", "$response.body#/report_id"),
        ("GetReportCsv", "reports_csv", "id", "$response.body#/report_id"),
        ("FollowTask", "tasks_retrieve", "task_id", "$response.body#/task_id"),
    ],
    ("payments_callback", "202"): [("FollowTask", "tasks_retrieve", "task_id", "$response.body#/task_id")],
}


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: LINKS into the answers they start from."""
    for by_method in result["paths"].values():
        for operation in by_method.values():
            for status, response in operation.get("responses", {}).items():
                for name, target, parameter, source in LINKS.get((operation.get("operationId"), status), ()):
                    link = {"operationId": target, "parameters": {parameter: source}}
                    response.setdefault("links", {})[name] = link
    return result
