"""The functions an expression may call. Nothing outside this table is callable.

Every function passes None through (returns None) except coalesce, whose job is to skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from engine.transforms._expr_runtime import ExpressionEvalError
from engine.transforms.base import TransformContext, TransformError, is_empty
from engine.transforms.builtin import TRANSFORMS
from engine.transforms.builtin._common import as_text, describe


@dataclass(frozen=True)
class ExprFunction:
    """A callable with its arity, checked when the expression compiles."""

    call: Callable[..., Any]
    min_args: int
    max_args: int | None
    signature: str
    doc: str


def _text(name: str, method: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if value is None:
            return None
        try:
            return method(as_text(value, f"{name}()"))
        except TransformError as exc:
            raise ExpressionEvalError(str(exc)) from None

    return apply


def _length(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | list | tuple):
        return len(value)
    raise ExpressionEvalError(f"len() needs text or a list, got {describe(value)}")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value.__class__ is str:
            if value and not value.isspace():
                return value
        elif not is_empty(value):
            return value
    return None


def _via_cast(target: str) -> Callable[[Any], Any]:
    cast = TRANSFORMS["cast"].build(target, TransformContext())

    def convert(value: Any) -> Any:
        try:
            return cast(value)
        except TransformError as exc:
            raise ExpressionEvalError(f"{target}(): {exc}") from None

    return convert


def _number(value: Any, name: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ExpressionEvalError(f"{name}() needs a number, got {describe(value)}")
    return value


def _abs(value: Any) -> Any:
    return None if value is None else abs(_number(value, "abs"))


def _round(value: Any, digits: Any = 0) -> Any:
    """Half up, as people round money (Python's round() rounds half to even)."""
    if value is None:
        return None
    number = _number(value, "round")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
        raise ExpressionEvalError(f"round() digits must be a whole number 0-12, got {digits!r}")
    try:
        exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
        rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ExpressionEvalError(f"round() cannot round {describe(value)}") from None
    if digits == 0 and not isinstance(number, Decimal):
        return int(rounded)
    return float(rounded) if isinstance(number, float | int) else rounded


def _affix(name: str, test: Callable[[str, str], bool]) -> Callable[[Any, Any], Any]:
    def apply(value: Any, part: Any) -> Any:
        if value is None or part is None:
            return None
        if not isinstance(value, str) or not isinstance(part, str):
            raise ExpressionEvalError(
                f"{name}() needs text, got {describe(value)}, {describe(part)}"
            )
        return test(value, part)

    return apply


FUNCTIONS: dict[str, ExprFunction] = {
    "lower": ExprFunction(_text("lower", str.lower), 1, 1, "lower(x)", "lowercase text"),
    "upper": ExprFunction(_text("upper", str.upper), 1, 1, "upper(x)", "uppercase text"),
    "trim": ExprFunction(_text("trim", str.strip), 1, 1, "trim(x)", "strip surrounding spaces"),
    "len": ExprFunction(_length, 1, 1, "len(x)", "length of text or a list"),
    "coalesce": ExprFunction(
        _coalesce, 1, None, "coalesce(a, b, ...)", "first argument that is not None or blank"
    ),
    "int": ExprFunction(_via_cast("int"), 1, 1, "int(x)", "whole number from text or number"),
    "float": ExprFunction(_via_cast("float"), 1, 1, "float(x)", "float from text or number"),
    "str": ExprFunction(_via_cast("str"), 1, 1, "str(x)", "text form of a value"),
    "abs": ExprFunction(_abs, 1, 1, "abs(x)", "absolute value"),
    "round": ExprFunction(_round, 1, 2, "round(x, digits=0)", "round half up"),
    "startswith": ExprFunction(
        _affix("startswith", str.startswith), 2, 2, "startswith(x, prefix)", "text starts with"
    ),
    "endswith": ExprFunction(
        _affix("endswith", str.endswith), 2, 2, "endswith(x, suffix)", "text ends with"
    ),
}
