"""default, required, empty and map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.transforms.base import OMIT, Transform, TransformError

Make = Callable[..., Transform]

EMPTY_VALUES = [None, "", "   ", "\u3000", [], {}, ()]
PRESENT_VALUES = ["x", 0, 0.0, False, ["a"], " a "]


@pytest.mark.parametrize("value", EMPTY_VALUES)
def test_default_fills_empty_values(make: Make, value: Any) -> None:
    """None, blank text and empty containers take the default."""
    assert make("default", "unknown")(value) == "unknown"


@pytest.mark.parametrize("value", PRESENT_VALUES)
def test_default_keeps_present_values(make: Make, value: Any) -> None:
    """Zero and False are values, not emptiness."""
    assert make("default", "unknown")(value) is value


@pytest.mark.parametrize("value", EMPTY_VALUES)
def test_required_rejects_empty_values(make: Make, value: Any) -> None:
    """An empty required value rejects the row with a readable reason."""
    with pytest.raises(TransformError, match="required"):
        make("required")(value)


@pytest.mark.parametrize("value", PRESENT_VALUES)
def test_required_passes_present_values(make: Make, value: Any) -> None:
    """A present value goes through unchanged."""
    assert make("required")(value) is value


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        ("omit", "", OMIT),
        ("omit", None, OMIT),
        ("omit", [], OMIT),
        ("omit", "x", "x"),
        ("null", "  ", None),
        ("none", "", "none"),
        (None, "", None),
        ("null", 0, 0),
    ],
)
def test_empty(make: Make, args: str | None, value: Any, expected: Any) -> None:
    """empty: omit gives the OMIT sentinel; null/none (and YAML null) give None."""
    assert make("empty", args)(value) is expected or make("empty", args)(value) == expected


GENDER = {"男": "male", "女": "female", "M": "male", "F": "female"}


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (GENDER, "男", "male"),
        (GENDER, "女", "female"),
        ({"values": GENDER}, "F", "female"),
        ({"values": GENDER, "fallback": "keep"}, "其他", "其他"),
        ({"values": GENDER, "fallback": "null"}, "其他", None),
        ({"values": GENDER, "fallback": None}, "X", None),
        ({"values": GENDER, "fallback": "unknown"}, "X", "unknown"),
        ({"values": GENDER, "fallback": {"value": "keep"}}, "X", "keep"),
        ({"values": GENDER, "fallback": 0}, "X", 0),
        ({"values": {"m": "male"}, "ignore_case": True}, "M", "male"),
        ({1: "male", 2: "female"}, "2", "female"),
        ({1: "male", 2: "female"}, 1, "male"),
        ({"Y": True, "N": False}, "N", False),
        ({"values": {"values": "v"}, "fallback": "keep"}, "values", "v"),
        ({"vip": ["vip", "gold"]}, "vip", ["vip", "gold"]),
    ],
)
def test_map(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Long and short forms, each fallback, number keys matching CSV text, ignore_case."""
    assert make("map", args)(value) == expected


@pytest.mark.parametrize(
    ("args", "value"),
    [(GENDER, "X"), ({"values": GENDER}, "m"), ({"values": GENDER, "fallback": "reject"}, "")],
)
def test_map_rejects_unmapped_by_default(make: Make, args: Any, value: Any) -> None:
    """Without a fallback an unmapped value rejects the row, naming the value."""
    with pytest.raises(TransformError, match="no mapping for"):
        make("map", args)(value)


def test_map_rejects_unhashable_input(make: Make) -> None:
    """A list reaching map is a row error, not a TypeError."""
    with pytest.raises(TransformError, match="cannot look up a list"):
        make("map", GENDER)(["男"])
