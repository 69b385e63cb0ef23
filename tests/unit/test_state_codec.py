"""Positions survive the state store with their exact types: a SQL cursor resumes as it was stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.state.codec import PositionCodecError, decode_position, encode_position

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.decimals(allow_nan=False),
    st.dates(),
    st.times(),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.timezones()),  # zoneinfo zones, DST gaps and folds included
    st.datetimes(
        timezones=st.builds(
            dt.timezone, st.timedeltas(-dt.timedelta(hours=23), dt.timedelta(hours=23))
        )
    ),
)
POSITIONS = st.lists(
    st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8),
    max_size=5,
).map(tuple)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and for times with the same wall clock, fold and offset."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, dt.datetime):
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.fold == b.fold
            and a.utcoffset() == b.utcoffset()
            and (a.tzinfo is None) == (b.tzinfo is None)
        )
    if isinstance(a, dt.time):
        return a == b and a.fold == b.fold
    return bool(a == b)


@given(POSITIONS)
def test_every_position_round_trips_with_its_types(position: tuple[Any, ...]) -> None:
    assert same(decode_position(encode_position(position)), position)


def test_a_sql_cursor_keeps_naive_aware_and_decimal_apart() -> None:
    naive = dt.datetime(2024, 3, 10, 2, 30)
    aware = dt.datetime(2024, 3, 10, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    back = decode_position(encode_position((naive, aware, Decimal("1.10"), b"\x00\xff", 7)))
    assert back[0].tzinfo is None
    assert back[1].utcoffset() == dt.timedelta(hours=8)
    assert str(back[2]) == "1.10"
    assert back[3:] == (b"\x00\xff", 7)


def test_a_value_that_cannot_round_trip_is_refused() -> None:
    with pytest.raises(PositionCodecError, match="type object"):
        encode_position((object(),))
    with pytest.raises(PositionCodecError):
        decode_position('{"$": "nope", "v": 1}')
