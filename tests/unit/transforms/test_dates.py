"""date and datetime: formats, zones, SQL objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from engine.transforms.base import Transform, TransformArgsError, TransformContext, TransformError

Make = Callable[..., Transform]
TW = TransformContext(default_utc_offset="+08:00")
JP = TransformContext(default_utc_offset="+09:00")
ZONED = "%Y-%m-%d %H:%M:%S%z"
MICRO = "%Y-%m-%dT%H:%M:%S.%f"
SLASHES = {"input": ["%Y/%m/%d", "%Y%m%d", "%Y-%m-%d"]}


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (SLASHES, "1990/1/2", "1990-01-02"),
        (SLASHES, "1990/01/02", "1990-01-02"),
        (SLASHES, "19900102", "1990-01-02"),
        (SLASHES, " 1990-01-02 ", "1990-01-02"),
        (SLASHES, "2024/2/29", "2024-02-29"),
        ({"input": "%d/%m/%Y"}, "02/01/1990", "1990-01-02"),
        ({"input": "%Y年%m月%d日"}, "1990年1月2日", "1990-01-02"),
        ({"input": "%d %b %Y"}, "2 Jan 1990", "1990-01-02"),
        ({"input": "%m/%d/%y"}, "1/2/90", "1990-01-02"),
        ({"input": "%Y/%m/%d", "output": "%Y%m%d"}, "1990/1/2", "19900102"),
        ({"input": "%Y/%m/%d %H:%M"}, "1990/1/2 23:59", "1990-01-02"),
        (None, "1990-01-02", "1990-01-02"),
        (None, "1990-01-02T10:00:00", "1990-01-02"),
        (None, "", None),
        (None, date(1990, 1, 2), "1990-01-02"),
        (None, datetime(1990, 1, 2, 23, 30), "1990-01-02"),
    ],
)
def test_date(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Dates from the formats people actually export, and from SQL objects."""
    assert make("date", args, TW)(value) == expected


def test_date_converts_aware_values_to_the_environment_zone(make: Make) -> None:
    """An instant late on 1 Jan in UTC is already 2 Jan in Taipei."""
    late_utc = datetime(1990, 1, 1, 20, 0, tzinfo=UTC)
    assert make("date", None, TW)(late_utc) == "1990-01-02"
    assert make("date", None, TW)("1990-01-01T20:00:00Z") == "1990-01-02"
    assert make("date", None)(late_utc) == "1990-01-01"


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (SLASHES, "1990/13/02"),
        (SLASHES, "1990/2/30"),
        (SLASHES, "90/1/2"),
        (SLASHES, "1990/1/2 extra"),
        (SLASHES, "not a date"),
        (SLASHES, 19900102),
        (None, "2024-02-30"),
        (None, ["1990-01-02"]),
        (None, True),
    ],
)
def test_date_rejects(make: Make, args: Any, value: Any) -> None:
    """Impossible dates and unknown shapes reject the row, naming the formats tried."""
    with pytest.raises(TransformError, match="date"):
        make("date", args, TW)(value)


@pytest.mark.parametrize(
    ("args", "ctx", "value", "expected"),
    [
        (None, TW, "2024-03-05T14:30:00", "2024-03-05T14:30:00+08:00"),
        (None, JP, "2024-03-05 14:30:00", "2024-03-05T14:30:00+09:00"),
        (None, TW, "2024-03-05T06:30:00Z", "2024-03-05T14:30:00+08:00"),
        (None, TW, "2024-03-05T14:30:00.235482+08:00", "2024-03-05T14:30:00.235482+08:00"),
        (None, TW, "2024-03-05", "2024-03-05T00:00:00+08:00"),
        ({"timezone": "+09:00"}, TW, "2024-03-05T14:30:00", "2024-03-05T14:30:00+09:00"),
        ({"timezone": "-03:30"}, TW, "2024-03-05T14:30:00", "2024-03-05T14:30:00-03:30"),
        ({"timezone": "+0545"}, TW, "2024-03-05T14:30:00.25", "2024-03-05T14:30:00.250000+05:45"),
        ({"timezone": "Asia/Tokyo"}, TW, "2024-03-05T14:30:00", "2024-03-05T14:30:00+09:00"),
        ({"timezone": "UTC"}, TW, "2024-03-05T14:30:00+08:00", "2024-03-05T06:30:00+00:00"),
        ({"input": "%Y/%m/%d %H:%M:%S"}, TW, "2024/3/5 9:05:07", "2024-03-05T09:05:07+08:00"),
        ({"input": "%Y%m%d%H%M%S"}, TW, "20240305143000", "2024-03-05T14:30:00+08:00"),
        ({"input": ZONED}, TW, "2024-03-05 14:30:00+0000", "2024-03-05T22:30:00+08:00"),
        ({"input": MICRO}, TW, "2024-03-05T14:30:00.5", "2024-03-05T14:30:00.500000+08:00"),
        ({"input": "%Y/%m/%d %I:%M %p"}, TW, "2024/3/5 2:30 PM", "2024-03-05T14:30:00+08:00"),
        ({"input": "epoch"}, TW, "1709620200", "2024-03-05T14:30:00+08:00"),
        ({"input": "epoch"}, TW, 1709620200, "2024-03-05T14:30:00+08:00"),
        ({"input": "epoch_ms"}, TW, 1709620200000, "2024-03-05T14:30:00+08:00"),
        ({"output": "%Y-%m-%d %H:%M"}, TW, "2024-03-05T14:30:00", "2024-03-05 14:30"),
        (None, TW, datetime(2024, 3, 5, 14, 30), "2024-03-05T14:30:00+08:00"),
        (None, TW, datetime(2024, 3, 5, 6, 30, tzinfo=UTC), "2024-03-05T14:30:00+08:00"),
        (None, TW, date(2024, 3, 5), "2024-03-05T00:00:00+08:00"),
        (None, TW, "  ", None),
    ],
)  # fmt: skip
def test_datetime(make: Make, args: Any, ctx: TransformContext, value: Any, expected: Any) -> None:
    """Naive values take the zone (args, else environment); aware values are converted to it."""
    assert make("datetime", args, ctx)(value) == expected


def test_datetime_dst_zone_uses_the_local_rule(make: Make) -> None:
    """An IANA zone with DST gives the offset in force on that date."""
    transform = make("datetime", {"timezone": "America/New_York"})
    assert transform("2024-07-01T12:00:00") == "2024-07-01T12:00:00-04:00"
    assert transform("2024-01-01T12:00:00") == "2024-01-01T12:00:00-05:00"


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (None, "2024-03-05T25:00:00"),
        (None, "yesterday"),
        (None, 1709620200),
        ({"input": "epoch"}, "1e300"),
        ({"input": "epoch"}, True),
        ({"input": "%Y-%m-%d %H:%M:%S%z"}, "2024-03-05 14:30:00+2500"),
        (None, "0001-01-01T00:00:00+08:00"),
        (None, "x" * 500),
    ],
)
def test_datetime_rejects(make: Make, args: Any, value: Any) -> None:
    """Impossible times, out-of-range instants and wrong types are row errors."""
    with pytest.raises(TransformError, match="datetime"):
        make("datetime", args, TW)(value)


@pytest.mark.parametrize(
    ("name", "args", "ctx"),
    [
        ("datetime", {"timezone": "Mars/Olympus"}, TW),
        ("datetime", {"timezone": "+25:00"}, TW),
        ("datetime", None, TransformContext(default_utc_offset="nonsense")),
        ("date", {"input": "%Y-%m-%Q"}, TW),
        ("date", {"input": "%Y-%m-%d %"}, TW),
    ],
)
def test_bad_zone_or_format_fails_at_build(
    make: Make, name: str, args: Any, ctx: TransformContext
) -> None:
    """Unknown zones and bad strptime directives fail when the spec compiles."""
    with pytest.raises(TransformArgsError):
        make(name, args, ctx)


def test_fast_parser_agrees_with_strptime() -> None:
    """The compiled numeric formats read exactly what strptime reads."""
    from engine.transforms.builtin._timeparse import compile_format

    cases = [
        ("%Y/%m/%d", "1990/1/2"),
        ("%Y%m%d", "19900102"),
        ("%Y-%m-%d %H:%M:%S", "2024-03-05   9:05:07"),
        ("%Y-%m-%dT%H:%M:%S.%f", "2024-03-05t14:30:00.123"),
        ("%d.%m.%Y", "5.3.2024"),
        ("%Y-%m-%d %H:%M:%S%z", "2024-03-05 14:30:00+05:30"),
    ]
    for fmt, text in cases:
        assert compile_format(fmt)(text) == datetime.strptime(text, fmt), (fmt, text)
    offset = compile_format("%Y-%m-%d %H:%M:%S%z")("2024-03-05 14:30:00-0130").utcoffset()
    assert offset == -timedelta(hours=1, minutes=30)


def test_a_local_mean_time_offset_is_written_in_whole_minutes(make: Make) -> None:
    """Asia/Tokyo before 1888 is +09:18:59, which no ISO 8601 field takes: the same instant is
    written at +09:19."""
    to_datetime = make("datetime", {"timezone": "Asia/Tokyo"})

    assert to_datetime("1887-06-01T00:00:00+00:00") == "1887-06-01T09:19:00+09:19"
