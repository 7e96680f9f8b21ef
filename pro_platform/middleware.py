"""Every answer under /api/ is JSON in the one error shape, whatever DEBUG says.

DRF's views answer their own errors through the exception handler. What never reaches
a DRF view is answered here: unknown routes and malformed ids (Django's 404, an HTML
page while DEBUG is on), too large a body (413), and any exception nothing handled
(500 with the request id, never a traceback). The admin and the documentation pages
keep their HTML.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse

from operations.tracing import HTTP_HEADER, request_id_of
from pro_platform.exceptions import django_error_response, error_response, server_error_response

logger = logging.getLogger(__name__)

_HTML_PAGES = ("/api/docs/", "/api/redoc/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") and not request.path.startswith(_HTML_PAGES)


def request_too_large() -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(413, "request_too_large", f"The request body is larger than {limit} bytes.")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        if _is_api(request) and _declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            response = request_too_large()  # refused before a byte of it is read
        else:
            response = self.get_response(request)
            if _is_api(request) and response.status_code >= 400 and not _is_json(response):
                response = self._in_error_shape(response, request_id)
        response[HTTP_HEADER] = request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An exception no view handled: 413 for a body over the limit, else 500, never a traceback."""
        if not _is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return request_too_large()
        request_id = request_id_of(request)
        got_request_exception.send(sender=type(self), request=request)  # error tracking hears of it
        logger.error(
            "unhandled %s on %s %s (request %s)",
            type(exception).__name__,
            request.method,
            request.path,
            request_id,
            exc_info=exception,
        )
        return server_error_response(request_id)

    def _in_error_shape(self, response: HttpResponse, request_id: str) -> HttpResponse:
        status = response.status_code
        if status >= 500:
            return server_error_response(request_id)
        replacement = django_error_response(status, response.reason_phrase)
        if "Allow" in response:
            replacement["Allow"] = response["Allow"]
        return replacement


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
