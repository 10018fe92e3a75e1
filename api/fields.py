"""Numbers and ids read exactly as sent, or refused with a 400 naming the field.

DRF's IntegerField reads 1.0 as 1 and "١٢" (Arabic-Indic digits) as 12, since int() accepts
any script's digits; its PrimaryKeyRelatedField hands 1.5 or true to the database, which stores
the row on contact 1; a value beyond the database's 64-bit integers is an OverflowError (500)
on some backends. Every integer the API reads (body fields, ids, query filters, the cursor,
page_size) goes through strict_int() instead.
"""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# The database's integer columns (bigint ids included) hold 64-bit signed values.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1
# More digits than any 64-bit value, so int() never sees a long string.
_MAX_DIGITS = 19


def strict_int(value) -> int | None:
    """A JSON integer, or a string of ASCII digits with an optional leading minus, within the
    database's 64-bit range; None for anything else (bool, float, "1.5", "+1", " 1", "١٢")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        digits = value[1:] if value.startswith("-") else value
        if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS):
            return None
        number = int(value)
    else:
        return None
    return number if DB_INT_MIN <= number <= DB_INT_MAX else None


class StrictIntegerField(serializers.IntegerField):
    """An integer sent as a JSON integer or as ASCII digits; never a float, bool or other
    script's digits. The range defaults to the database's 64-bit integers."""

    default_error_messages = {
        "invalid": _("A whole number written with the digits 0-9 is required."),
        "out_of_range": _("This number is outside the range the database can store."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", DB_INT_MIN)
        kwargs.setdefault("max_value", DB_INT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        number = strict_int(data)
        if number is None:
            self.fail("out_of_range" if _is_whole_number(data) else "invalid")
        return number


def _is_whole_number(data) -> bool:
    """An integer that is too large (or small) rather than not an integer at all."""
    if isinstance(data, str):
        data = data[1:] if data.startswith("-") else data
        return data.isascii() and data.isdigit()
    return isinstance(data, int) and not isinstance(data, bool)


class IdFilterField(StrictIntegerField):
    """An id in a query parameter (?contact=12)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related row's id, read by strict_int() before the database sees it."""

    default_error_messages = {
        "invalid_id": _("An id (a whole number written with the digits 0-9) is required."),
    }

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and data == "":  # DRF would read it as null
            self.fail("invalid_id")
        return super().run_validation(data)

    def to_internal_value(self, data):
        pk = strict_int(data)
        if pk is None:
            if _is_whole_number(data):  # beyond 64 bits: no row can have it
                self.fail("does_not_exist", pk_value=data)
            self.fail("invalid_id")
        return super().to_internal_value(pk)


class StrictDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField falls back to Django's parse_datetime, whose \\d reads any script's
    digits ("٢٠٢٤" is 2024): only ASCII text is read."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        return super().to_internal_value(value)
