"""What JSON Schema alone cannot say about OmniSegment records: calendar-valid dates, email
addresses, JSON objects written as text, finite numbers, JSON integers and the order of paired
datetimes. Used by the client's record check, not by the sandbox."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.protocols import Validator


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _aware(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _is_datetime_offset(value: object) -> bool:
    return not isinstance(value, str) or _aware(value) is not None


def _is_datetime_range(value: object) -> bool:
    if not isinstance(value, str):
        return True
    start, _, end = value.partition("/")
    first, last = _aware(start), _aware(end)
    return first is not None and last is not None and first <= last


def _is_calendar_datetime(value: object) -> bool:
    """A real day and time; the schema's pattern already limits the forms (voucher dates, the
    questionnaire answers' submitTime)."""
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# One @; a local part without spaces, quotes or brackets; a dotted domain of letter/digit labels
# (any script, as the `email` transform writes them) ending in a TLD of letters or an IDN A-label.
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f]{{1,64}}@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})",
    re.IGNORECASE,
)


def _is_email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return len(value) <= 254 and ".." not in value and _EMAIL.fullmatch(value) is not None


def _is_json_object(value: object) -> bool:
    """Text holding one JSON object: event_label and a product's variant ("json format string")."""
    if not isinstance(value, str):
        return True
    try:
        return isinstance(orjson.loads(value), dict)
    except orjson.JSONDecodeError:
        return False


FORMATS = FormatChecker(formats=())
FORMATS.checks("date")(_is_date)
FORMATS.checks("date-time-offset")(_is_datetime_offset)
FORMATS.checks("date-time-range")(_is_datetime_range)
FORMATS.checks("voucher-date")(_is_calendar_datetime)
FORMATS.checks("answer-time")(_is_calendar_datetime)
FORMATS.checks("email")(_is_email)
FORMATS.checks("json-object")(_is_json_object)


def is_finite_number(instance: object) -> bool:
    """A finite int or float: NaN and infinities would be sent as null by the JSON encoder."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    return isinstance(instance, float) and math.isfinite(instance)


def is_json_integer(instance: object) -> bool:
    """An int: 999.0 travels as `999.0`, which the API reads as a float, not an integer."""
    return isinstance(instance, int) and not isinstance(instance, bool)


# the stubs leave extend() untyped; it returns a validator class
RecordValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "number": lambda _checker, instance: is_finite_number(instance),
            "integer": lambda _checker, instance: is_json_integer(instance),
        }
    ),
)
TYPES: dict[str, Callable[[object], bool]] = {
    "number": is_finite_number,
    "integer": is_json_integer,
}
"""RecordValidator's type overrides, for the compiled check (engine.fastcheck)."""

Rule = Callable[[Mapping[str, Any]], tuple[str, str] | None]


def ordered(start: str, end: str) -> Rule:
    """`end` must come after `start` (both already checked as datetimes with an offset)."""

    def rule(record: Mapping[str, Any]) -> tuple[str, str] | None:
        first, last = record.get(start), record.get(end)
        if not (isinstance(first, str) and isinstance(last, str)):
            return None
        a, b = _aware(first), _aware(last)
        if a is not None and b is not None and b <= a:
            return end, f"'{end}' must be after '{start}'"
        return None

    return rule


RULES: dict[str, tuple[Rule, ...]] = {
    "event_registration": (ordered("event_start_datetime", "event_end_datetime"),),
    "product_guarantee": (ordered("warranty_start_datetime", "warranty_end_datetime"),),
}
