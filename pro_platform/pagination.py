from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

# The error codes these query parameters can answer with (documented in the schema).
PAGE_ERROR_CODES = {"page": {"invalid", "min_value"}, "page_size": {"invalid", "min_value", "max_value"}}


def _positive_int(request: Request, name: str, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, "A whole number is required.", "invalid") from None
    if value < 1:
        raise _invalid(name, "Must be at least 1.", "min_value")
    if maximum is not None and value > maximum:
        raise _invalid(name, f"Must be at most {maximum}.", "max_value")
    return value


def _invalid(name: str, message: str, code: str) -> ValidationError:
    return ValidationError({name: [ErrorDetail(message, code=code)]})


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, answered with count, next and previous links.

    Strict, so that the schema tells the truth: a page or page size that is not a whole
    number in range is 400 (DRF would silently use the default); a page past the last is 404.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> Any:
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return _positive_int(request, self.page_size_query_param, self.max_page_size) or self.page_size

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
