"""Helpers shared by the built-in transforms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.transforms.base import TransformError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

MAX_NUMBER_TEXT = 100
"""The most characters a number's text may have; longer text is refused before any conversion.

No value an endpoint accepts comes near it: a JSON integer is 64-bit (20 characters with its
sign), a money amount as text has at most 15 digits and 2 decimals, a float's shortest text 24
characters. The margin is for grouping, a currency, spaces and leading zeros. Without a bound the
work grows faster than the length (`int()` of 20 MB of digits took 12 minutes, blocking every
signal handler)."""
MAX_NUMBER_DIGITS = MAX_NUMBER_TEXT
"""The most digits (and the largest power of ten) of a number from a typed source, for the same
reason: a PostgreSQL NUMERIC may hold 131,072 digits."""


def schema(body: dict[str, Any]) -> dict[str, Any]:
    """An args schema with the 2020-12 dialect named, so tools read it the same way we do."""
    return {"$schema": SCHEMA_DIALECT, **body}


def as_text(value: Any, transform: str) -> str:
    """Text for a text transform: numbers become their text form, other types are a row error.

    Numbers are accepted because SQL sources hand over ints where CSV hands over text.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # an int past Python's 4,300-digit limit for text
            raise TransformError(f"{transform}: a number too long to write as text") from None
    raise TransformError(f"{transform} expects text, got {type(value).__name__}")


def number_text(text: str, transform: str) -> str:
    """`text` without surrounding spaces, refused at once when it is too long to be a number."""
    text = text.strip()
    if len(text) > MAX_NUMBER_TEXT:
        raise TransformError(
            f"{transform}: {len(text):,} characters is too long to be a number "
            f"(at most {MAX_NUMBER_TEXT}): {describe(text)}"
        )
    return text


def bounded_decimal(number: Decimal, source: Any, transform: str) -> Decimal:
    """`number` when its digits and magnitude are within MAX_NUMBER_DIGITS; else a row error."""
    if number.is_finite() and (
        len(number.as_tuple().digits) > MAX_NUMBER_DIGITS
        or abs(number.adjusted()) > MAX_NUMBER_DIGITS
    ):
        raise TransformError(f"{transform}: too many digits to be a number: {describe(source)}")
    return number


def describe(value: Any, limit: int = 40) -> str:
    """A short repr of a value for an error message (reject reasons must stay readable).

    Text stays a well-formed literal ('abc...') so the reject file can find and mask it; a long
    value is cut before it is written out, so a 20 MB cell costs no more than a short one."""
    if isinstance(value, str) and len(value) > limit:
        short = repr(value[: limit - 5])
        return short[:-1] + "..." + short[-1]
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4,300-digit limit for text
        return f"a {value.bit_length():,}-bit number"
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        short = repr(value[: limit - 5])
        return short[:-1] + "..." + short[-1]
    return text[: limit - 3] + "..."
