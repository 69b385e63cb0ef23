"""What compiled expressions do at run time: comparisons, arithmetic and the whitelisted functions.

Rows from CSV hold text, rows from SQL hold typed values, so comparisons meet numbers against
numeric text and dates against ISO text; they coerce in those two cases only. Any other mismatch,
and any failing operation, raises ExpressionEvalError (a TransformError: the row is rejected).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.transforms.base import TransformError
from engine.transforms.builtin._common import MAX_NUMBER_TEXT, describe

Op = Callable[[Any, Any], Any]


class ExpressionEvalError(TransformError):
    """An expression could not be evaluated for this row (e.g. 'abc' > 100); the row is rejected."""


_NUMBERS = frozenset({int, float, Decimal})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number_from_text(text: str) -> Decimal | None:
    """The number `text` writes, or None; text longer than any number is not read at all."""
    text = text.strip()
    if "_" in text or len(text) > MAX_NUMBER_TEXT:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date_from_text(like: date, text: str) -> date | None:
    try:
        if isinstance(like, datetime):
            return datetime.fromisoformat(text.strip())
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _coerce(left: Any, right: Any) -> tuple[Any, Any] | None:
    """The pair made comparable (number vs numeric text, date vs ISO text), or None."""
    if isinstance(left, str) and _is_number(right):
        number = _number_from_text(left)
        return None if number is None else (number, right)
    if isinstance(right, str) and _is_number(left):
        number = _number_from_text(right)
        return None if number is None else (left, number)
    if isinstance(left, str) and isinstance(right, date):
        parsed = _date_from_text(right, left)
        return None if parsed is None else (parsed, right)
    if isinstance(right, str) and isinstance(left, date):
        parsed = _date_from_text(left, right)
        return None if parsed is None else (left, parsed)
    return None


def equal(left: Any, right: Any) -> bool:
    """==, with the comparison coercions; values that cannot be made comparable are unequal."""
    if left == right:
        return True
    if left is None or right is None or left.__class__ is right.__class__:
        return False
    pair = _coerce(left, right)
    if pair is None:
        return False
    try:
        return bool(pair[0] == pair[1])
    except TypeError:
        return False


def not_equal(left: Any, right: Any) -> bool:
    return not equal(left, right)


def _ordering(symbol: str, compare: Op) -> Op:
    def ordered(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        kinds = (left.__class__, right.__class__)
        if kinds[0] is kinds[1] or (kinds[0] in _NUMBERS and kinds[1] in _NUMBERS):
            try:
                return bool(compare(left, right))
            except TypeError:
                pass
        pair = _coerce(left, right)
        if pair is not None:
            try:
                return bool(compare(*pair))
            except TypeError:
                pass
        raise ExpressionEvalError(
            f"cannot compare {describe(left)} {symbol} {describe(right)}" + _too_long(left, right)
        )

    return ordered


def _too_long(*values: Any) -> str:
    """Why numeric-looking text was not read as a number, when that is the reason."""
    if any(isinstance(v, str) and len(v.strip()) > MAX_NUMBER_TEXT for v in values):
        return f" (text longer than {MAX_NUMBER_TEXT} characters is never read as a number)"
    return ""


less = _ordering("<", operator.lt)
less_equal = _ordering("<=", operator.le)
greater = _ordering(">", operator.gt)
greater_equal = _ordering(">=", operator.ge)


def member(item: Any, container: Any) -> bool:
    """`in`: substring for text, element (with the == coercions) for lists; False for None."""
    if container is None:
        return False
    if isinstance(container, str):
        if item is None:
            return False
        if not isinstance(item, str):
            raise ExpressionEvalError(f"'in' text needs text on the left, got {describe(item)}")
        return item in container
    if not isinstance(container, list | tuple | set | frozenset):
        raise ExpressionEvalError(
            f"'in' needs a list or text on the right, got {describe(container)}"
        )
    try:
        if item in container:
            return True
    except TypeError:
        return False
    return any(equal(item, element) for element in container)


def not_member(item: Any, container: Any) -> bool:
    return not member(item, container)


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """Decimal from SQL meeting a float literal: compute in float (Python refuses the mix)."""
    if isinstance(left, Decimal) and isinstance(right, float):
        return float(left), right
    if isinstance(left, float) and isinstance(right, Decimal):
        return left, float(right)
    return left, right


def _arithmetic(symbol: str, compute: Op, text_ok: bool = False) -> Op:
    def apply(left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        if text_ok and left.__class__ is str and right.__class__ is str:
            return left + right
        if not (_is_number(left) and _is_number(right)):
            raise ExpressionEvalError(
                f"cannot compute {describe(left)} {symbol} {describe(right)} "
                "(use int() or float() on text columns)"
            )
        try:
            return compute(*_align(left, right))
        except (ArithmeticError, ValueError) as exc:
            raise ExpressionEvalError(
                f"{describe(left)} {symbol} {describe(right)}: {exc}"
            ) from None

    return apply


add = _arithmetic("+", operator.add, text_ok=True)
subtract = _arithmetic("-", operator.sub)
multiply = _arithmetic("*", operator.mul)
divide = _arithmetic("/", operator.truediv)
modulo = _arithmetic("%", operator.mod)


def negate(value: Any) -> Any:
    if value is None:
        return None
    if not _is_number(value):
        raise ExpressionEvalError(f"cannot negate {describe(value)}")
    return -value


def positive(value: Any) -> Any:
    if value is None:
        return None
    if not _is_number(value):
        raise ExpressionEvalError(f"unary + needs a number, got {describe(value)}")
    return value
