"""regex_replace runs on RE2: no pattern from a spec can make a value take exponential time."""

from __future__ import annotations

import pytest

from engine.transforms.base import TransformArgsError
from tests.unit.transforms.conftest import Make


def test_a_catastrophic_pattern_finishes_at_once(make: Make) -> None:
    """`^(a+)+$` on 38 a's and a '!' backtracks for minutes on Python's engine; RE2 is linear."""
    replace = make("regex_replace", {"pattern": "^(a+)+$", "replacement": "x"})

    assert replace("a" * 38 + "!") == "a" * 38 + "!"
    assert replace("a" * 100_000) == "x"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a{99999999999}", "bad pattern"),  # OverflowError in Python's parser
        ("(a)\\1", "backreferences and lookaround are not supported"),
        ("a(?=b)", "cannot run on the linear-time engine"),
        ("(?<!a)b", "cannot run on the linear-time engine"),
        ("((a{100}){100}){100}", "cannot run on the linear-time engine"),
        ("(", "bad pattern"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_when_built(
    make: Make, pattern: str, reason: str
) -> None:
    with pytest.raises(TransformArgsError, match=reason):
        make("regex_replace", {"pattern": pattern})


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        ({"pattern": r"(\d+)", "replacement": r"台\1號"}, "x12y", "x台12號y"),
        ({"pattern": r"(?P<n>\d)", "replacement": r"<\g<n>>"}, "a1b2", "a<1>b<2>"),
        ({"pattern": "北", "replacement": "南"}, "台北市", "台南市"),
        ({"pattern": "x*", "replacement": "-"}, "abc", "-a-b-c-"),
        ({"pattern": "a", "replacement": r"\n\\", "count": 1}, "aa", "\n\\a"),
        ({"pattern": "ABC", "replacement": "", "ignore_case": True}, "xabcx", "xx"),
        ({"pattern": r"(a)|b", "replacement": r"[\1]"}, "ab", "[a][]"),
    ],
)
def test_replacement_keeps_python_syntax_and_unicode(
    make: Make, args: dict[str, object], value: str, expected: str
) -> None:
    assert make("regex_replace", args)(value) == expected


def test_a_bad_group_reference_fails_when_built(make: Make) -> None:
    with pytest.raises(TransformArgsError, match="bad replacement"):
        make("regex_replace", {"pattern": "a", "replacement": r"\2"})
