"""Text transforms on real-world cells."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.transforms.base import Transform, TransformArgsError, TransformError

Make = Callable[..., Transform]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("trim", "  Alice  ", "Alice"),
        ("trim", "\u3000王小明\t\n", "王小明"),
        ("trim", "", ""),
        ("trim", 42, "42"),
        ("trim", Decimal("1.50"), "1.50"),
        ("lower", "ALICE@EXAMPLE.COM", "alice@example.com"),
        ("lower", "Straße", "straße"),
        ("lower", "王小明", "王小明"),
        ("upper", "tw-a12", "TW-A12"),
        ("upper", 7, "7"),
    ],
)
def test_case_and_trim(make: Make, name: str, value: Any, expected: str) -> None:
    """trim/lower/upper work on text and on the text form of numbers."""
    assert make(name)(value) == expected


@pytest.mark.parametrize("name", ["trim", "lower", "upper", "truncate", "split", "regex_replace"])
@pytest.mark.parametrize("value", [True, ["a"], {"a": 1}, object()])
def test_text_transforms_reject_non_text(make: Make, name: str, value: Any) -> None:
    """Lists, mappings, bools reaching a text transform are a row error naming the type."""
    args = {"truncate": 3, "split": ";", "regex_replace": {"pattern": "a"}}.get(name)
    with pytest.raises(TransformError, match=f"{name} expects text"):
        make(name, args)(value)


@pytest.mark.parametrize(
    ("limit", "value", "expected"),
    [
        (5, "台北市信義區", "台北市信義"),
        (3, "ab", "ab"),
        (1, "😀x", "😀"),
        (4, 123456, "1234"),
    ],
)
def test_truncate_counts_characters(make: Make, limit: int, value: Any, expected: str) -> None:
    """truncate cuts by characters (code points), never inside a multi-byte character."""
    assert make("truncate", limit)(value) == expected


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        ({"pattern": r"[^0-9]"}, "0912-345-678", "0912345678"),
        ({"pattern": r"\s+", "replacement": " "}, "a  b\t\tc", "a b c"),
        ({"pattern": r"(\d{4})/(\d{2})", "replacement": r"\2-\1"}, "2024/03", "03-2024"),
        ({"pattern": r"(?P<n>\d+)", "replacement": r"<\g<n>>"}, "x12y3", "x<12>y<3>"),
        ({"pattern": "a", "replacement": "b", "count": 1}, "aaa", "baa"),
        ({"pattern": "MR\\.? ", "ignore_case": True}, "mr. Chen", "Chen"),
    ],
)
def test_regex_replace(make: Make, args: dict[str, Any], value: str, expected: str) -> None:
    """regex_replace uses Python regex and replacement syntax."""
    assert make("regex_replace", args)(value) == expected


@pytest.mark.parametrize(
    "args",
    [
        {"pattern": "("},
        {"pattern": "a", "replacement": r"\1"},
        {"pattern": "a", "replacement": "\\"},
    ],
)
def test_regex_replace_bad_args_fail_at_build(make: Make, args: dict[str, Any]) -> None:
    """A bad pattern or replacement template fails when the spec compiles, not on row 1."""
    with pytest.raises(TransformArgsError, match="regex_replace"):
        make("regex_replace", args)


@pytest.mark.parametrize(
    ("separator", "value", "expected"),
    [
        (";", "vip;newsletter", ["vip", "newsletter"]),
        (";", " vip ; ;newsletter; ", ["vip", "newsletter"]),
        (",", "", []),
        (",", "solo", ["solo"]),
        ("、", "台北、台中、高雄", ["台北", "台中", "高雄"]),
        ("||", "a||b||", ["a", "b"]),
    ],
)
def test_split(make: Make, separator: str, value: str, expected: list[str]) -> None:
    """split trims items and drops empty ones."""
    assert make("split", separator)(value) == expected


@pytest.mark.parametrize(
    ("separator", "value", "expected"),
    [
        (",", ["vip", "newsletter"], "vip,newsletter"),
        (", ", ("a", None, "b"), "a, b"),
        ("", [], ""),
        ("|", [1, 2.5, "x"], "1|2.5|x"),
        (",", "already,joined", "already,joined"),
    ],
)
def test_join(make: Make, separator: str, value: Any, expected: str) -> None:
    """join skips None items, renders numbers, passes text through."""
    assert make("join", separator)(value) == expected


@pytest.mark.parametrize("value", [{"a": 1}, 5, [["nested"]], [True]])
def test_join_rejects_what_it_cannot_join(make: Make, value: Any) -> None:
    """A mapping, a number, nested lists or bools are a row error."""
    with pytest.raises(TransformError, match="join"):
        make("join", ",")(value)


def test_split_then_join_round_trip(make: Make) -> None:
    """The spec sketch's tags chain: split on ';' then join with ','."""
    split, join = make("split", ";"), make("join", ",")
    assert join(split(" vip; 2024新客 ;; ")) == "vip,2024新客"


@pytest.mark.parametrize(
    ("name", "args", "value", "expected"),
    [
        ("truncate", 2.0, "abcdef", "ab"),
        ("regex_replace", {"pattern": "a", "replacement": "b", "count": 1.0}, "aaa", "baa"),
        ("number", {"output": "string", "decimals": 2.0}, "3.14159", "3.14"),
    ],
)
def test_a_whole_number_written_as_a_float_is_an_integer_argument(
    make: Make, name: str, args: Any, value: str, expected: str
) -> None:
    """JSON Schema's `integer` admits 2.0 (YAML reads `truncate: 2.0` so): the fuzz test found
    truncate failing with an internal error on it."""
    assert make(name, args)(value) == expected
