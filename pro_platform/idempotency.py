"""Idempotency-Key on the HTTP side: the header, its documentation, and the replayed answer.

The semantics (one key, one request, one effect; the first answer replayed) are in
services/idempotency.py; this module reads the header and turns answers into responses.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.auth import request_user
from services.idempotency import Answer, idempotent_call, request_fingerprint

MAX_IDEMPOTENCY_KEY_LENGTH = 255
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description=(
        "A unique string of your choosing (a UUID), new for each order you mean to place. "
        "Retrying the same request with the same key (after a timeout or a 503) replays the first "
        "successful answer, status and body, instead of placing another order; the replay carries "
        "`Idempotent-Replayed: true`. The key with another operation or other parameters is 409 "
        "idempotency_key_reused. Keys are yours alone and remembered for at least 24 hours; "
        "a request that failed is not remembered and may be retried with its key."
    ),
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    enum=["true"],
    description="Present when this is the stored answer to an earlier request with the same key.",
)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationError(
            {
                "idempotency_key": [
                    ErrorDetail(f"At most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.", code="max_length")
                ]
            }
        )
    return key


def idempotent(request: Request, parameters: Any, perform: Callable[[], Answer]) -> Response:
    """`perform()` once per Idempotency-Key (when the request has one); retries get its answer."""
    key = idempotency_key(request)
    if not key:
        answer = perform()
        return Response(answer.body, status=answer.status)
    answer = idempotent_call(
        user=request_user(request),
        key=key,
        operation=f"{request.method} {request.path}",
        fingerprint=request_fingerprint(parameters),
        perform=perform,
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return Response(answer.body, status=answer.status, headers=headers)
