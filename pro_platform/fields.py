"""Input fields that accept exactly what the schema says, and no JSON type the schema does not.

DRF's fields are lenient: a CharField takes the number 5, an IntegerField the string "5",
a BooleanField "yes", a DecimalField "5e2" and numbers. The schema documents strings,
integers and booleans, so a client generated from it (and a fuzzer) expects anything else
to be refused. Request serializers use these instead.
"""

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

NO_NUL = r"^[^\x00]*$"  # DRF refuses NUL characters (PostgreSQL cannot store them); the schema says so


class JsonTyped:
    """Refuses, before DRF's own parsing, a value whose JSON type is not the field's."""

    json_type: type = str

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, float) and self.json_type is int and data.is_integer():
            data = int(data)  # JSON Schema's integers include 2.0
        if not isinstance(data, self.json_type) or (isinstance(data, bool) and self.json_type is not bool):
            self.fail("invalid")  # type: ignore[attr-defined]  # a DRF field's
        return super().to_internal_value(data)  # type: ignore[misc]  # the DRF field's


class StrictCharField(JsonTyped, serializers.CharField):
    """A JSON string with no NUL character, kept as sent ("  " is not trimmed to "" unannounced)."""

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class StrictEmailField(JsonTyped, serializers.EmailField):
    pass


class StrictRegexField(JsonTyped, serializers.RegexField):
    default_error_messages = {"invalid": "This value does not match the required pattern."}


class StrictIntegerField(JsonTyped, serializers.IntegerField):
    json_type = int


class StrictBooleanField(JsonTyped, serializers.BooleanField):
    json_type = bool


class StrictDecimalField(JsonTyped, serializers.DecimalField):
    """A non-negative decimal sent as a string of plain digits, as the schema's pattern says:
    "12.50". With `min_value` 0.01 (a price, two decimal places), the pattern itself refuses
    zero, so that the schema says what the field accepts.
    """

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        whole, places = max_digits - decimal_places, decimal_places
        if self.min_value is not None and self.min_value > 0:
            assert (self.min_value, places) == (Decimal("0.01"), 2), "only prices are positive"
            number = rf"(?:[1-9]\d{{0,{whole - 1}}}(?:\.\d{{1,2}})?|0\.(?:[1-9]\d?|0[1-9]))"
        else:
            number = rf"(?:[1-9]\d{{0,{whole - 1}}}|0)(?:\.\d{{1,{places}}})?"
        self.pattern = rf"^{number}$"

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, str) and not re.match(self.pattern, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = StrictCharField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": NO_NUL} if direction == "request" else schema


class StrictDecimalFieldSchema(OpenApiSerializerFieldExtension):
    target_class = StrictDecimalField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}
