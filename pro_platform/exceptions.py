"""The API's one error shape, for business errors as for DRF's own.

Every 4xx and 5xx body is `{"type": ..., "errors": [{"code", "detail", "attr"}]}`
(drf-standardized-errors). Business errors from services/ are mapped here, and
only here, to HTTP statuses.
"""

from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework_simplejwt.exceptions import DetailDictMixin

from services.exceptions import Conflict, InvalidRequest, NotFound, RateLimited, ServiceError


class BusinessConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, error: Conflict) -> None:
        # A dict detail is flattened to `attr` = the field at fault.
        detail = {error.field: [error.message]} if error.field else error.message
        super().__init__(detail=detail, code=error.code)


def as_api_exception(error: ServiceError) -> exceptions.APIException:
    """Business error -> HTTP: invalid request 400 (a validation error on its field),
    not found 404, conflict 409, rate limited 429 (with Retry-After)."""
    if isinstance(error, InvalidRequest):
        field = error.field or api_settings.NON_FIELD_ERRORS_KEY
        return exceptions.ValidationError({field: [exceptions.ErrorDetail(error.message, code=error.code)]})
    if isinstance(error, NotFound):
        return exceptions.NotFound(error.message, code=error.code)
    if isinstance(error, Conflict):
        return BusinessConflict(error)
    if isinstance(error, RateLimited):
        return exceptions.Throttled(wait=error.retry_after, detail=error.message)
    raise TypeError(f"unmapped business error {type(error).__name__}")


class ServiceUnavailable(exceptions.APIException):
    """The database went away mid-request.

    Almost always the transaction was rolled back; if the connection died during the
    commit itself it may have gone through, which is why POST /orders/ takes an
    Idempotency-Key: the retry then returns the order instead of placing another.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is briefly unavailable. Try again (with the same Idempotency-Key)."
    wait = 1  # Retry-After, seconds


def flat_authentication_failure(exc: DetailDictMixin) -> exceptions.AuthenticationFailed:
    """simplejwt's dict detail (detail, code, token classes, messages) as one error with its code."""
    detail: dict = exc.detail  # type: ignore[attr-defined]
    code = str(detail["code"])
    message = (
        "The token is invalid, expired or revoked." if code == "token_not_valid" else str(detail["detail"])
    )
    converted = exceptions.AuthenticationFailed(message, code=code)
    converted.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
    return converted


class ServiceAwareExceptionHandler(ExceptionHandler):
    def should_not_handle(self, exc: Exception) -> bool:
        # Unexpected exceptions go on to pro_platform.middleware, which answers 500 with the
        # request id and logs the traceback, whatever DEBUG says.
        return not isinstance(exc, exceptions.APIException)

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ServiceError):
            return as_api_exception(exc)
        if isinstance(exc, OperationalError | InterfaceError):
            return ServiceUnavailable()
        if isinstance(exc, DetailDictMixin):
            return flat_authentication_failure(exc)
        return super().convert_known_exceptions(exc)


def error_response(status_code: int, code: str, detail: str) -> JsonResponse:
    body = {
        "type": "client_error" if status_code < 500 else "server_error",
        "errors": [{"code": code, "detail": detail, "attr": None}],
    }
    return JsonResponse(body, status=status_code, json_dumps_params={"separators": (",", ":")})


# What Django itself answers outside DRF's views, named as DRF names it.
DJANGO_ERRORS = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
}


def django_error_response(status_code: int, reason: str) -> JsonResponse:
    """A Django error answer in the API's error shape (`reason`: the status's phrase)."""
    code, detail = DJANGO_ERRORS.get(status_code, ("error", f"{reason}."))
    return error_response(status_code, code, detail)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 404 for URLs no view answers, in the API's error shape."""
    return django_error_response(404, "Not Found")


def server_error_response(request_id: str) -> JsonResponse:
    """500 without a traceback: the request id finds it in the logs."""
    return error_response(500, "error", f"Server error. Quote request id {request_id} when reporting it.")


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Django's 500 for an error outside any view (the API middleware gave the request its id)."""
    return server_error_response(getattr(request, "request_id", "unknown"))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return django_error_response(400, "Bad Request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return django_error_response(403, "Forbidden")
