from rest_framework import filters
from rest_framework.fields import CharField
from rest_framework.request import Request


class SearchFilter(filters.SearchFilter):
    """`?search=`, where a NUL character separates words like a space does.

    DRF answers 400 for a NUL in the search text, which a schema cannot say (a query
    string is any text); no product name or SKU contains one, so it is dropped instead.
    """

    def get_search_terms(self, request: Request) -> list[str]:
        value = request.query_params.get(self.search_param, "").replace("\x00", " ")
        return filters.search_smart_split(
            CharField(trim_whitespace=False, allow_blank=True).run_validation(value)
        )
