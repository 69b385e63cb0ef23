"""Property tests: whatever text a cell holds, a parsing transform returns or raises TransformError.

Any other exception would escape as a traceback instead of a rejected row with a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.transforms.base import Transform, TransformContext, TransformError
from engine.transforms.builtin import TRANSFORMS

TW = TransformContext(default_utc_offset="+08:00")

CASES: list[tuple[str, Any]] = [
    ("date", None),
    ("date", {"input": ["%Y/%m/%d", "%Y%m%d", "%d %b %Y", "%Y-%m-%d %H:%M:%S%z"]}),
    ("datetime", None),
    ("datetime", {"input": ["iso", "epoch", "%Y/%m/%d %H:%M", "%m/%d/%y %I:%M %p"]}),
    ("datetime", {"input": "epoch_ms", "timezone": "Asia/Taipei"}),
    ("number", None),
    ("number", {"output": "int"}),
    ("number", {"output": "string", "decimals": 2, "thousands": ".", "decimal": ","}),
    ("phone", {"region": "TW"}),
    ("phone", None),
    ("email", None),
    ("cast", "int"),
    ("cast", "float"),
    ("cast", "decimal"),
    ("cast", "bool"),
]

# Text built from the characters these parsers care about, so the search reaches deep paths.
NUMBERISH = st.text(alphabet="0123456789,.-+()$¥ NT元eE_%/:T年月日Z", max_size=40)
ANY_TEXT = st.text(max_size=80)
SQL_VALUES = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
)


def _built(name: str, args: Any) -> Transform:
    return TRANSFORMS[name].build(args, TW)


def _returns_or_rejects(transform: Transform, value: Any) -> None:
    try:
        result = transform(value)
    except TransformError:
        return
    assert result is None or isinstance(result, str | int | float | bool)


@pytest.mark.parametrize(
    ("name", "args"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
@settings(max_examples=300, deadline=None)
@given(text=st.one_of(ANY_TEXT, NUMBERISH))
def test_any_text_ends_as_value_or_transform_error(name: str, args: Any, text: str) -> None:
    """No text input makes a parsing transform raise anything but TransformError."""
    _returns_or_rejects(_built(name, args), text)


@pytest.mark.parametrize(
    ("name", "args"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
@settings(max_examples=150, deadline=None)
@given(value=SQL_VALUES)
def test_any_sql_value_ends_as_value_or_transform_error(name: str, args: Any, value: Any) -> None:
    """Typed values from SQL sources are handled or rejected, never a crash."""
    _returns_or_rejects(_built(name, args), value)


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_datetime_round_trips_through_iso(moment: datetime) -> None:
    """Writing a naive datetime as ISO and reading it back gives the same wall time in +08:00."""
    out = _built("datetime", None)(moment.isoformat())
    assert datetime.fromisoformat(out) == moment.replace(tzinfo=datetime.fromisoformat(out).tzinfo)
    assert out.endswith("+08:00")


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1000, 1, 1)))
def test_date_reads_slashed_unpadded_dates(day: date) -> None:
    """Every calendar day written as Y/M/D without padding comes back as ISO."""
    text = f"{day.year}/{day.month}/{day.day}"
    assert _built("date", {"input": "%Y/%m/%d"})(text) == day.isoformat()


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=-(10**12), max_value=10**12))
def test_number_reads_what_it_would_print(cents: int) -> None:
    """A grouped amount with a currency sign parses back to the exact value."""
    text = f"NT${abs(cents) / 100:,.2f}"
    text = f"({text})" if cents < 0 else text
    result = _built("number", {"output": "string", "decimals": 2})(text)
    assert result == f"{cents / 100:.2f}" if cents else result == "0.00"


_PHONE_TEXT = st.one_of(
    st.from_regex(r"\+?[0-9 ()\-.]{6,18}", fullmatch=True),
    st.from_regex(r"0[0-9]{1,3}[- ]?[0-9]{3,4}[- ]?[0-9]{3,4}", fullmatch=True),
    st.from_regex(r"\+(886|81|1|44|86) ?[0-9]{2,4} ?[0-9]{3,4} ?[0-9]{3,4}", fullmatch=True),
)


@settings(max_examples=400, deadline=None)
@given(region=st.sampled_from(["TW", "JP", "US", "GB", "CN", "HK"]), text=_PHONE_TEXT)
def test_phone_fast_path_agrees_with_libphonenumber(region: str, text: str) -> None:
    """Whatever the fast path answers, the full library answers the same."""
    import phonenumbers

    from engine.transforms.builtin.phone import _fast_e164

    quick = _fast_e164(region)(text)
    if quick is None:
        return
    number = phonenumbers.parse(text, region)
    assert phonenumbers.is_valid_number(number)
    assert quick == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
