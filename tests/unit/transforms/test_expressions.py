"""The expression language: what it computes, and everything it refuses at compile time."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.transforms.base import TransformError
from engine.transforms.expressions import (
    ExpressionError,
    ExpressionEvalError,
    compile_expression,
    referenced_columns,
)

ROW = {
    "status": "active",
    "total": "150",
    "amount": Decimal("99.50"),
    "count": 3,
    "first_name": "Alice",
    "last_name": "Chen",
    "nickname": "",
    "email": " Alice@Example.com ",
    "tags": ["vip", "new"],
    "created": datetime(2024, 3, 5, 14, 30),
    "birthday": date(1990, 1, 2),
    "gender": "女",
    "order total": "12",
    "empty": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == 'active' and total > 100", True),
        ("status == 'active' and total > 200", False),
        ("status != 'active' or count >= 3", True),
        ("first_name + ' ' + last_name", "Alice Chen"),
        ("coalesce(nickname, first_name)", "Alice"),
        ("coalesce(missing, empty, 'n/a')", "n/a"),
        ("lower(trim(email))", "alice@example.com"),
        ("upper(status)", "ACTIVE"),
        ("len(first_name)", 5),
        ("len(tags)", 2),
        ("'vip' in tags", True),
        ("'@' in email", True),
        ("status in ('active', 'pending')", True),
        ("status not in ['active', 'pending']", False),
        ("gender in ('男', '女')", True),
        ("total in (100, 150)", True),
        ("count in ('3', '4')", True),
        ("total == 150", True),
        ("total == 150.0", True),
        ("total != 'x'", True),
        ("1 < count < 5", True),
        ("1 < count < 3", False),
        ("int(total) * 2", 300),
        ("float(total) / 4", 37.5),
        ("count % 2", 1),
        ("count - 5", -2),
        ("-count", -3),
        ("not status", False),
        ("amount * 2", Decimal("199.00")),
        ("amount * 1.05 > 100", True),
        ("amount > 99", True),
        ("round(amount * 1.05, 1)", 104.5),
        ("round(2.5)", 3),
        ("abs(count - 10)", 7),
        ("'vip' if int(total) > 100 else 'normal'", "vip"),
        ("created >= '2024-01-01'", True),
        ("created < '2024-03-05T14:00:00'", False),
        ("birthday == '1990-01-02'", True),
        ("birthday < '2000-01-01'", True),
        ("missing is None", True),
        ("status is not None", True),
        ("missing == None", True),
        ("missing > 5", False),
        ("missing + 'x'", None),
        ("lower(missing)", None),
        ("missing in ('a',)", False),
        ("'a' in missing", False),
        ("col('order total') == '12'", True),
        ("startswith(email, ' Alice')", True),
        ("endswith(lower(trim(email)), '.com')", True),
        ("str(count) + ' items'", "3 items"),
        ("True and 'yes'", "yes"),
        ("status == 'active'\n  and total > 100", True),
        ("  count  ", 3),
    ],
)
def test_evaluates(text: str, expected: Any) -> None:
    """Filters and computed values over a row mixing CSV text and SQL-typed values."""
    result = compile_expression(text)(ROW)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("status > 5", "cannot compare"),
        ("first_name + count", "cannot compute"),
        ("first_name * 3", "cannot compute"),
        ("'%s' % first_name", "cannot compute"),
        ("count / 0", "division by zero"),
        ("int(first_name)", "int()"),
        ("-status", "cannot negate"),
        ("count in 5", "'in' needs a list"),
        ("count in first_name", "'in' text needs text"),
        ("created > 'not a date'", "cannot compare"),
        ("created > birthday", "cannot compare"),
        ("round(count, 'x')", "round() digits"),
        ("startswith(count, 'x')", "startswith() needs text"),
        ("len(count)", "len() needs"),
    ],
)
def test_runtime_errors_reject_the_row(text: str, reason: str) -> None:
    """A failing operation raises ExpressionEvalError (a TransformError) with a reason."""
    evaluate = compile_expression(text)
    with pytest.raises(ExpressionEvalError, match=re.escape(reason)):
        evaluate(ROW)


@pytest.mark.parametrize(
    ("text", "reason", "column"),
    [
        ("__import__('os')", "function '__import__' is not allowed", 0),
        ("__import__('os').system('id')", "only the built-in functions", 0),
        ("().__class__", "attribute access", 0),
        ("().__class__.__bases__[0].__subclasses__()", "only the built-in functions", 0),
        ("open('x')", "function 'open' is not allowed", 0),
        ("eval('1')", "function 'eval' is not allowed", 0),
        ("getattr(status, 'upper')", "function 'getattr' is not allowed", 0),
        ("lambda: 1", "lambda", 0),
        ("(lambda x: x)(1)", "only the built-in functions", 0),
        ("status.upper()", "only the built-in functions", 0),
        ("status.upper", "attribute access", 0),
        ("tags[0]", "subscript", 0),
        ("tags[0:1]", "subscript", 0),
        ("[x for x in tags]", "comprehension", 0),
        ("{x for x in tags}", "comprehension", 0),
        ("(x for x in tags)", "comprehension", 0),
        ("{'a': 1}", "dict literal", 0),
        ("{1, 2}", "set literal", 0),
        ("(y := 1)", "assignment", 1),
        ("f'{status}'", "f-string", 0),
        ("2 ** 100000", "operator ** is not allowed", 0),
        ("count // 2", "operator // is not allowed", 0),
        ("count << 2", "operator <<", 0),
        ("~count", "operator ~", 0),
        ("b'x'", "bytes literals", 0),
        ("1j", "complex literals", 0),
        ("...", "ellipsis literals", 0),
        ("lower(x=status)", "keyword arguments", 0),
        ("lower(*tags)", "* unpacking", 6),
        ("len()", "called with 0", 0),
        ("status is 'x'", "'is' is only allowed", 10),
        ("[1, 2]", "only allowed after 'in'", 0),
        ("status, total", "only allowed after 'in'", 0),
        ("col(status)", "col() takes one quoted column name", 0),
        ("status ==", "syntax error", 9),
        ("a = 1", "syntax error", 2),
        ("import os", "syntax error", 0),
        ("1and 2", "invalid decimal literal", 0),
        ("", "empty expression", 0),
        ("  ", "empty expression", 0),
        ("'é' + a.b", "attribute access", 6),
        ("x" * 2001, "longer than", 2000),
        ("-" * 100 + "1", "nested deeper", 40),
        ("(" * 300 + "1" + ")" * 300, "nested", None),  # the parser's own limit
        ("a\x00b", "NUL", 1),
    ],
)
def test_refused_at_compile_time(text: str, reason: str, column: int | None) -> None:
    """Escapes and constructs outside the language fail to compile, naming the construct."""
    with pytest.raises(ExpressionError, match=re.escape(reason)) as info:
        compile_expression(text)
    if column is not None:
        assert info.value.column_offset == column


def test_error_offsets_count_characters_not_bytes() -> None:
    """The offset points at the construct in the text as the author sees it."""
    text = "gender == '女' and name.upper"
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert text[info.value.column_offset :] == "name.upper"


def test_missing_column_reads_as_none() -> None:
    """A column absent from the row is None, so filters on it are simply false."""
    evaluate = compile_expression("coalesce(nickname, 'anon')")
    assert evaluate({}) == "anon"
    assert compile_expression("score > 10")({}) is False


def test_compiled_expression_is_reusable_across_rows() -> None:
    """One compile, many rows: no state leaks between calls."""
    keep = compile_expression("status == 'active' and int(total) > 100")
    rows = [{"status": "active", "total": "150"}, {"status": "gone", "total": "999"}, {}]
    assert [bool(keep(row)) for row in rows] == [True, False, False]


def test_aware_and_naive_datetimes_do_not_compare() -> None:
    """Comparing an aware value to naive text is an explicit row error, not a wrong answer."""
    evaluate = compile_expression("created > '2024-01-01'")
    with pytest.raises(ExpressionEvalError):
        evaluate({"created": datetime(2024, 3, 5, tzinfo=UTC)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == 'active' and total > 100", {"status", "total"}),
        ("first_name + ' ' + last_name", {"first_name", "last_name"}),
        ("lower(email) in ('a', b)", {"email", "b"}),
        ("col('order total') > 1 if x else y", {"order total", "x", "y"}),
        ("coalesce(1, 'x')", set()),
    ],
)
def test_referenced_columns(text: str, expected: set[str]) -> None:
    """Column names are collected; function names and literals are not."""
    assert referenced_columns(text) == expected


def test_referenced_columns_refuses_bad_text() -> None:
    """referenced_columns validates like compile_expression does."""
    with pytest.raises(ExpressionError):
        referenced_columns("a.b")


TOKENS = st.sampled_from(
    ["a", "b", "1", "2.5", "'x'", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "%", "**",
     "==", "<", ">", " and ", " or ", " not ", " in ", " is ", "None", "lower", "coalesce",
     "__class__", "lambda", ":", "if", "else", "=", "{", "}", '"', "\\", "col", "\n"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(TOKENS, max_size=12), row=st.dictionaries(st.sampled_from("ab"), st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.floats(), st.lists(st.integers(), max_size=2)
)))  # fmt: skip
def test_any_text_compiles_or_is_refused_and_never_crashes(parts: list[str], row: dict) -> None:
    """Compiling raises only ExpressionError; evaluating raises only TransformError."""
    try:
        evaluate = compile_expression("".join(parts))
    except ExpressionError:
        return
    with contextlib.suppress(TransformError):
        evaluate(row)
