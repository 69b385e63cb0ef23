"""A cell longer than any number an endpoint accepts is refused before it is converted.

Converting digit text grows faster than its length (`cast: int` of 20 MB of digits ran twelve
minutes and, holding the interpreter, ignored SIGTERM). Every numeric path bounds its input first:
each case prints how long the refusal took (`pytest -s`); bench/huge_cells.py measures them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.transforms.base import TransformError
from engine.transforms.builtin._common import MAX_NUMBER_TEXT
from engine.transforms.expressions import compile_expression

Make = Callable[..., Any]

HUGE = "7" * 20_000_000  # 20 MB of digits: what a 64 MiB CSV field lets through


def _refused(convert: Callable[[Any], Any], value: Any, label: str) -> TransformError:
    started = time.perf_counter()
    with pytest.raises(TransformError) as refused:
        convert(value)
    print(f"{label}: refused in {time.perf_counter() - started:.4f}s")  # no timed assertion
    return refused.value


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("cast", "int"),
        ("cast", "float"),
        ("cast", "decimal"),
        ("number", None),
        ("number", {"output": "int"}),
        ("number", {"output": "string", "decimals": 2}),
    ],
)
def test_a_20_mb_digit_cell_is_refused_at_once_with_its_length(
    make: Make, name: str, args: Any
) -> None:
    error = _refused(make(name, args), f" {HUGE} ", f"{name}: {args}")

    assert "20,000,000 characters is too long to be a number" in str(error)
    assert f"at most {MAX_NUMBER_TEXT}" in str(error)
    assert len(str(error)) < 200  # the reason shows the value's start, not the value


@pytest.mark.parametrize("text", ["int(total)", "float(total)", "total > 100", "100 <= total"])
def test_expressions_refuse_it_too(text: str) -> None:
    error = _refused(compile_expression(text), {"total": HUGE}, text)

    assert "too long" in str(error) or f"longer than {MAX_NUMBER_TEXT}" in str(error)


def test_equality_with_a_huge_cell_is_false_without_reading_it() -> None:
    assert compile_expression("total == 5")({"total": HUGE}) is False


def test_the_bound_leaves_room_for_every_real_amount(make: Make) -> None:
    """A padded 64-bit integer and a grouped amount with its currency stay well inside."""
    padded = "0" * 60 + "9223372036854775807"
    assert make("cast", "int")(padded) == 9223372036854775807
    assert make("number", {"output": "string"})("NT$ 1,234,567,890,123.45") == "1234567890123.45"
    assert make("cast", "int")("1" * MAX_NUMBER_TEXT) == int("1" * MAX_NUMBER_TEXT)


@pytest.mark.parametrize(
    "value",
    [Decimal("7" * 200_000), Decimal("1E+1000000"), Decimal("1E-1000000")],
    ids=["many-digits", "huge-exponent", "tiny-exponent"],
)
@pytest.mark.parametrize("target", ["int", "float", "decimal"])
def test_a_typed_number_of_too_many_digits_is_refused(make: Make, value: Any, target: str) -> None:
    """A PostgreSQL NUMERIC may hold 131,072 digits; int() of it is as slow as of its text."""
    error = _refused(make("cast", target), value, f"cast {target} of a {value.adjusted()} Decimal")

    assert "too many digits" in str(error)


def test_an_int_too_long_for_text_is_a_row_error_not_a_crash(make: Make) -> None:
    """Python refuses to write an int past 4,300 digits as text: that is the row's fault."""
    huge = 7**20_000
    with pytest.raises(TransformError, match="too many digits"):
        make("cast", "str")(huge)
    with pytest.raises(TransformError, match="too long to write as text"):
        make("phone", {"region": "TW"})(huge)


def test_a_huge_phone_cell_is_refused_and_not_cached(make: Make) -> None:
    phone = make("phone", {"region": "TW"})
    error = _refused(phone, HUGE, "phone")

    assert "phone: too long" in str(error)


def test_cast_bool_of_an_int_too_long_for_text_is_a_row_error(make: Make) -> None:
    with pytest.raises(TransformError, match="not a recognised yes/no value"):
        make("cast", "bool")(7**20_000)
