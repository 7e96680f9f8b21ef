import django_filters
from django import forms
from django.core.exceptions import ValidationError
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


class FilterSet(django_filters.FilterSet):
    """A filter given with no value (`?status=`) is refused, as the schema says, not ignored.

    django-filter skips empty values; the schema documents an enum, an integer or a
    number, of which "" is none.
    """

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            if self.data.get(name) == "":
                code = "invalid_choice" if isinstance(field, forms.ChoiceField) else "invalid"
                self.form.add_error(name, ValidationError("A value is required when given.", code=code))
        return valid and not self.form.errors
