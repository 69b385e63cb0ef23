"""Helpers shared by the built-in transforms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.transforms.base import TransformError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


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
        return str(value)
    raise TransformError(f"{transform} expects text, got {type(value).__name__}")


def describe(value: Any, limit: int = 40) -> str:
    """A short repr of a value for an error message (reject reasons must stay readable).

    Text stays a well-formed literal ('abc...') so the reject file can find and mask it."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        short = repr(value[: limit - 5])
        return short[:-1] + "..." + short[-1]
    return text[: limit - 3] + "..."
