"""The transform contract: a named builder, checked arguments, a compiled value -> value callable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class TransformError(ValueError):
    """A value this transform cannot turn into an output; the row is rejected with this reason."""


class _Omit:
    """Sentinel: leave the field out of the payload."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


@dataclass(frozen=True)
class TransformContext:
    default_utc_offset: str = "+00:00"


Transform = Callable[[Any], Any]


@dataclass(frozen=True)
class TransformSpec:
    name: str
    args_schema: dict[str, Any]
    build: Callable[[Any, TransformContext], Transform]
    summary: str
    example: str
    example_input: Any = None
    example_output: Any = None
    takes_args: bool = True
