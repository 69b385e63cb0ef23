"""cast and number on real-world amounts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.transforms.base import Transform, TransformError

Make = Callable[..., Transform]


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        ("int", "42", 42),
        ("int", " -7 ", -7),
        ("int", "42.0", 42),
        ("int", "\uff11\uff12", 12),  # full-width digits from Japanese forms
        ("int", 42.0, 42),
        ("int", Decimal("3"), 3),
        ("int", "1e3", 1000),
        ("int", "", None),
        ("float", "3.14", 3.14),
        ("float", 2, 2.0),
        ("float", Decimal("0.1"), 0.1),
        ("float", "  ", None),
        ("decimal", "1234.50", "1234.50"),
        ("decimal", 0.1, "0.1"),
        ("decimal", "1E+3", "1000"),
        ("decimal", "-0", "0"),
        ("decimal", 12, "12"),
        ("str", 42, "42"),
        ("str", True, "true"),
        ("str", "", ""),
        ("str", Decimal("1.50"), "1.50"),
        ("bool", "yes", True),
        ("bool", " TRUE ", True),
        ("bool", "0", False),
        ("bool", 1, True),
        ("bool", False, False),
        ("bool", "否", False),
        ("bool", "", None),
        ({"to": "bool", "truthy": ["Y", "會員"], "falsy": ["N"]}, "會員", True),
        ({"to": "bool", "truthy": ["Y"], "falsy": ["N"]}, "n", False),
    ],
)
def test_cast(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Each cast target, from text and from SQL-typed values."""
    result = make("cast", args)(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("args", "value"),
    [
        ("int", "42.5"),
        ("int", "abc"),
        ("int", "1_000"),
        ("int", "nan"),
        ("int", 4.5),
        ("int", True),
        ("float", "inf"),
        ("float", "1e400"),
        ("float", "12,5"),
        ("decimal", "NaN"),
        ("decimal", [1]),
        ("bool", "maybe"),
        ({"to": "bool", "truthy": ["Y"], "falsy": ["N"]}, "yes"),
        ("bool", 2),
        ("str", ["a"]),
        ("str", float("nan")),
    ],
)
def test_cast_rejects(make: Make, args: Any, value: Any) -> None:
    """Values that do not convert exactly reject the row instead of being guessed at."""
    with pytest.raises(TransformError, match="cast"):
        make("cast", args)(value)


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (None, "1,234.50", 1234.5),
        (None, "NT$1,234", 1234.0),
        (None, "¥1,200", 1200.0),
        (None, "(12.5)", -12.5),
        (None, "-1,234,567.89", -1234567.89),
        (None, "USD 99.90", 99.9),
        (None, "1,200元", 1200.0),
        (None, "1200円", 1200.0),
        (None, "NT$ -50", -50.0),
        (None, "-NT$50", -50.0),
        (None, "+3", 3.0),
        (None, ".5", 0.5),
        (None, "€ 12", 12.0),
        (None, "", None),
        (None, 1234, 1234.0),
        (None, Decimal("2.5"), 2.5),
        ({"output": "int"}, "NT$1,234", 1234),
        ({"output": "int"}, "1,234.00", 1234),
        ({"output": "int", "decimals": 0}, "12.5", 13),
        ({"output": "string"}, "1,234.50", "1234.50"),
        ({"output": "string", "decimals": 2}, "1,234.5", "1234.50"),
        ({"output": "string", "decimals": 0}, "2.5", "3"),
        ({"output": "string", "decimals": 1}, "(0.04)", "0.0"),
        ({"decimals": 1}, "0.25", 0.3),
        ({"thousands": ".", "decimal": ","}, "1.234,50 €", 1234.5),
        ({"thousands": " ", "decimal": ","}, "1 234,5", 1234.5),
        ({"thousands": "'"}, "CHF 1'234.50", 1234.5),
        ({"thousands": ""}, "1234.5", 1234.5),
    ],
)
def test_number(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Written amounts in TW, JP, US and EU forms."""
    result = make("number", args)(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (None, "abc"),
        (None, "12%"),
        (None, "1,23"),
        (None, "1,2345"),
        (None, "12.5.3"),
        (None, "(12"),
        (None, "--5"),
        (None, "(-5)"),
        (None, "12/5"),
        (None, "1e5"),
        (None, "1_000"),
        (None, True),
        (None, float("inf")),
        (None, "9" * 400),
        ({"output": "int"}, "12.5"),
        ({"thousands": ""}, "1,234"),
        ({"output": "string", "decimals": 2}, "9" * 40),
    ],
)
def test_number_rejects(make: Make, args: Any, value: Any) -> None:
    """Text that is not plainly an amount is a row error, never a guess."""
    with pytest.raises(TransformError, match="number"):
        make("number", args)(value)
