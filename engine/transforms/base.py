"""The contract between field transforms and the mapping compiler.

A transform is a plain callable (value in, value out) built once per field from its YAML args, so
the per-row work is one function call per step; see docs/transforms.md for the built-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "NO_ARGS_SCHEMA",
    "OMIT",
    "Transform",
    "TransformArgsError",
    "TransformContext",
    "TransformDef",
    "TransformError",
    "is_empty",
]


class TransformError(ValueError):
    """A value this transform cannot turn into an output.

    The row is rejected with str(self) as the reason (the mapping compiler adds the field name).
    """


class TransformArgsError(ValueError):
    """Args that pass the JSON Schema but still cannot work (a bad regex, an unknown time zone).

    Raised by `TransformDef.build` at compile time, so a bad spec fails before any row is read.
    """


@dataclass(frozen=True)
class TransformContext:
    """Spec-wide settings a transform may need while it is built."""

    default_utc_offset: str = "+00:00"


Transform = Callable[[Any], Any]


@dataclass(frozen=True)
class TransformDef:
    """A named transform: how to check its args, how to build it, and how to document it."""

    name: str
    args_schema: dict[str, Any]
    build: Callable[[Any, TransformContext], Transform]
    summary: str
    example: str
    example_input: Any = None
    example_output: Any = None
    takes_args: bool = True


class _Omit:
    """Type of `OMIT`; a singleton so `value is OMIT` is the test."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()
"""Returned by a transform to say "leave this field out of the record" (not null, absent).

The mapping compiler stops the field's chain when a step returns OMIT and drops the field.
"""

NO_ARGS_SCHEMA: Final[dict[str, Any]] = {"type": "null"}
"""Args schema of a bare-name transform (`trim`): the YAML gives no args, so args is None."""


def is_empty(value: Any) -> bool:
    """True for None, blank text, empty lists/dicts: the values `default`/`required`/`empty` see."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict | set | frozenset):
        return not value
    return False
