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


def _refuse_other_json_types(field: serializers.Field, data: Any, *types: type) -> None:
    # bool is an int in Python, never in JSON
    if not isinstance(data, types) or (isinstance(data, bool) and bool not in types):
        field.fail("invalid")


NO_NUL = r"^[^\x00]*$"  # DRF refuses NUL characters (PostgreSQL cannot store them); the schema says so


class StrictCharField(serializers.CharField):
    """A JSON string with no NUL character, kept as sent ("  " is not trimmed to "" unannounced)."""

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        _refuse_other_json_types(self, data, str)
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        _refuse_other_json_types(self, data, str)
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    default_error_messages = {"invalid": "This value does not match the required pattern."}

    def to_internal_value(self, data: Any) -> str:
        _refuse_other_json_types(self, data, str)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer():  # JSON Schema's integers include 2.0
            data = int(data)
        _refuse_other_json_types(self, data, int)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        _refuse_other_json_types(self, data, bool)
        return data


class StrictDecimalField(serializers.DecimalField):
    """A decimal sent as a string of plain digits, as the schema's pattern says: "12.50".

    Unsigned unless `signed`. With `min_value` 0.01 (a price, two decimal places), the
    pattern itself refuses zero, so that the schema says what the field accepts.
    """

    def __init__(self, *, max_digits: int, decimal_places: int, signed: bool = False, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        whole, places = max_digits - decimal_places, decimal_places
        if self.min_value is not None and self.min_value > 0:
            assert (self.min_value, places) == (Decimal("0.01"), 2), "only prices are positive"
            number = rf"(?:[1-9]\d{{0,{whole - 1}}}(?:\.\d{{1,2}})?|0\.(?:[1-9]\d?|0[1-9]))"
        else:
            number = rf"(?:[1-9]\d{{0,{whole - 1}}}|0)(?:\.\d{{1,{places}}})?"
        self.pattern = rf"^{'-?' if signed else ''}{number}$"

    def to_internal_value(self, data: Any) -> Decimal:
        _refuse_other_json_types(self, data, str)
        if not re.match(self.pattern, data):
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
