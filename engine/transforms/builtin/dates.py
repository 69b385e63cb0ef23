"""Date transforms: date (calendar day) and datetime (instant, ISO 8601 with offset).

Text is parsed with the `input` formats in order ('iso' by default; also 'epoch', 'epoch_ms' and
strptime formats). datetime/date objects from SQL are taken as they are. Naive values are read in
the target zone (args `timezone`, else the context's default_utc_offset); aware values are
converted to it. None passes through; blank text becomes None.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from engine.transforms.base import Transform, TransformContext, TransformDef, TransformError
from engine.transforms.builtin._common import as_text, describe, schema
from engine.transforms.builtin._timeparse import compile_formats, parse_zone

_FAILURES = (ValueError, OverflowError, OSError)


def _formats(args: dict[str, Any]) -> list[str]:
    formats = args.get("input", ["iso"])
    return [formats] if isinstance(formats, str) else list(formats)


def _reader(args: dict[str, Any], transform: str) -> Callable[[Any], datetime | None]:
    """Any accepted input -> datetime (naive or aware), None for missing; TransformError if bad."""
    formats = _formats(args)
    parse = compile_formats(formats)
    epoch = next((f for f in formats if f in ("epoch", "epoch_ms")), None)
    shown = ", ".join(formats)

    def read(value: Any) -> datetime | None:
        if value.__class__ is str:
            text = value.strip()
        elif isinstance(value, datetime):
            return value
        elif isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        elif value is None:
            return None
        elif epoch and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            text = as_text(value, transform)
        else:
            raise TransformError(
                f"{transform}: expected text or a date, got {type(value).__name__}"
            )
        if not text:
            return None
        try:
            return parse(text)
        except _FAILURES:
            raise TransformError(f"{transform}: {describe(text)} does not match {shown}") from None

    return read


def _zone(args: dict[str, Any], ctx: TransformContext) -> tzinfo:
    return parse_zone(args.get("timezone", ctx.default_utc_offset))


def _build_date(args: dict[str, Any] | None, ctx: TransformContext) -> Transform:
    options = args or {}
    read = _reader(options, "date")
    zone = _zone(options, ctx)
    output: str = options.get("output", "%Y-%m-%d")
    iso = output == "%Y-%m-%d"

    def to_date(value: Any) -> Any:
        moment = read(value)
        if moment is None:
            return None
        try:
            if moment.tzinfo is not None:
                moment = moment.astimezone(zone)
            return moment.date().isoformat() if iso else moment.strftime(output)
        except _FAILURES:
            raise TransformError(f"date: out of range: {describe(value)}") from None

    return to_date


def _fixed_suffix(zone: tzinfo) -> str | None:
    """'+08:00' for a fixed-offset zone (what isoformat() appends), None for a zone with rules."""
    if not isinstance(zone, timezone):
        return None
    minutes = int(zone.utcoffset(None).total_seconds()) // 60
    hours, minutes = divmod(abs(minutes), 60)
    return f"{'-' if zone.utcoffset(None) < timedelta(0) else '+'}{hours:02d}:{minutes:02d}"


def _iso(moment: datetime) -> str:
    """ISO 8601 with a whole-minute offset: a zone's old local mean time (Asia/Tokyo +09:18:59
    before 1888) is written at the nearest whole-minute offset, the same instant."""
    offset = moment.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        minutes = round(offset / timedelta(minutes=1))
        moment = moment.astimezone(timezone(timedelta(minutes=minutes)))
    return moment.isoformat()


def _build_datetime(args: dict[str, Any] | None, ctx: TransformContext) -> Transform:
    options = args or {}
    read = _reader(options, "datetime")
    zone = _zone(options, ctx)
    output: str = options.get("output", "iso")
    iso = output == "iso"
    # A fixed offset has one suffix: naive wall time + "+08:00" skips two slow datetime calls.
    suffix = _fixed_suffix(zone) if iso else None

    def to_datetime(value: Any) -> Any:
        moment = read(value)
        if moment is None:
            return None
        try:
            if moment.tzinfo is None:
                if suffix is not None:
                    return moment.isoformat() + suffix
                moment = moment.replace(tzinfo=zone)
            else:
                moment = moment.astimezone(zone)
            return _iso(moment) if iso else moment.strftime(output)
        except _FAILURES:
            raise TransformError(f"datetime: out of range: {describe(value)}") from None

    return to_datetime


_FORMATS = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    ]
}


def _args_schema(output_doc: str) -> dict[str, Any]:
    return schema(
        {
            "type": ["object", "null"],
            "properties": {
                "input": _FORMATS,
                "output": {"type": "string", "minLength": 1, "description": output_doc},
                "timezone": {"type": "string", "minLength": 1},
            },
            "additionalProperties": False,
        }
    )


DEFINITIONS = [
    TransformDef(
        name="date",
        args_schema=_args_schema("strftime format; default %Y-%m-%d"),
        build=_build_date,
        summary=(
            "Parse a date with the `input` formats (tried in order; default `iso`) and write it "
            "with `output` (default `%Y-%m-%d`). An aware value is first converted to `timezone` "
            "(default: the environment's offset), so the day is the local day."
        ),
        example='{date: {input: ["%Y/%m/%d", "%Y%m%d"]}}',
        example_input="1990/1/2",
        example_output="1990-01-02",
    ),
    TransformDef(
        name="datetime",
        args_schema=_args_schema("`iso` (default: ISO 8601 with offset) or a strftime format"),
        build=_build_datetime,
        summary=(
            "Parse a date and time with the `input` formats (default `iso`; also `epoch`, "
            "`epoch_ms`) and write ISO 8601 with offset. Naive input is read in `timezone` "
            "(offset or IANA name; default: the environment's offset), aware input is converted "
            "to it."
        ),
        example='{datetime: {input: "%Y/%m/%d %H:%M", timezone: "+08:00"}}',
        example_input="2024/3/5 14:30",
        example_output="2024-03-05T14:30:00+08:00",
    ),
]
