"""regex_replace runs on RE2: no pattern from a spec can make a value take exponential time."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.transforms.base import TransformArgsError
from tests.unit.transforms.conftest import Make, build_transform


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


_PATTERNS = [
    "[^0-9]",
    r"\s+",
    "x*",
    "(a)|(b)",
    r"(?P<w>\w+)@",
    "^",
    "台|北",
    r"(\d)(\d)?",
    ".",
    "a|",
    r"\w+",
    r"\d",
    r"\s+",
    r"[\w-]+",
    r"\W",
    r"\D+",
    r"\S",
    r"[^\d\s]",
]


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.sampled_from(_PATTERNS),
    replacement=st.sampled_from(["", "-", r"<\g<0>>", "台", r"\n"]),
    text=st.text(alphabet="abx @1_-台北\n\u00e9\U0001f600０\u3000\x0b\x1c٣Ⅻ", max_size=30),
    count=st.integers(min_value=0, max_value=3),
)
def test_results_equal_pythons_for_patterns_both_engines_run(
    pattern: str, replacement: str, text: str, count: int
) -> None:
    """RE2 changes the engine, not the answers: same output as re.sub, non-ASCII included."""
    args = {"pattern": pattern, "replacement": replacement, "count": count}
    built = build_transform("regex_replace", args)
    assert built(text) == re.sub(pattern, replacement, text, count=count)


def test_dollar_is_the_very_end(make: Make) -> None:
    """The one documented difference: Python's $ also matches before a final newline."""
    assert make("regex_replace", {"pattern": "x$", "replacement": "y"})("ax\n") == "ax\n"
    assert make("regex_replace", {"pattern": "x$", "replacement": "y"})("ax") == "ay"
