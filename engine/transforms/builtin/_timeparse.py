"""Compiling date input formats into fast parsers, and reading time zones.

`datetime.strptime` costs several microseconds a call (locale lock, regex cache lookup). Most real
formats only use numeric fields, so those are compiled here into one regex plus `datetime(...)`;
any other directive (%b, %y, %p, ...) falls back to strptime for that format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from engine.lazy import lazy_module
from engine.transforms.base import TransformArgsError

if TYPE_CHECKING:
    import zoneinfo
else:
    zoneinfo = lazy_module("zoneinfo")  # its time zone database, when a spec names a zone

Parser = Callable[[str], datetime | None]
"""Text -> datetime (naive, or aware when the text carried an offset); None when it does not fit."""

_FIELDS = {
    "Y": r"(?P<Y>\d{4})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "H": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
    "f": r"(?P<f>\d{1,6})",
    "z": r"(?P<z>[zZ]|[+-]\d{2}:?\d{2})",
}
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
_MAX_DATE_TEXT = 64  # longer text is never a date; keeps the work per bad cell bounded


def parse_zone(text: str) -> tzinfo:
    """'+08:00', '+0900', 'Z', 'UTC' or an IANA name such as 'Asia/Taipei'."""
    if text in ("Z", "z", "UTC"):
        return UTC
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24):
            raise TransformArgsError(f"UTC offset out of range: {text!r}")
        return timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise TransformArgsError(f"unknown time zone {text!r}") from exc


def _offset(text: str) -> tzinfo:
    """The zone of a matched %z field ([+-]HH[:]MM or Z); ValueError past 24 hours."""
    if text in ("z", "Z"):
        return UTC
    delta = timedelta(hours=int(text[1:3]), minutes=int(text[-2:]))
    return timezone(-delta if text[0] == "-" else delta)


def _numeric_regex(fmt: str) -> tuple[re.Pattern[str], list[str]] | None:
    """A regex and its field order for a format of numeric directives, or None if it has others."""
    parts: list[str] = []
    order: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            directive = fmt[i + 1 : i + 2]
            if directive == "%":
                parts.append("%")
            elif directive in _FIELDS and directive not in order:
                order.append(directive)
                parts.append(_FIELDS[directive])
            else:
                return None
            i += 2
            continue
        parts.append(r"\s+" if ch.isspace() else re.escape(ch))
        i += 1
    if not {"Y", "m", "d"} <= set(order):
        return None
    return re.compile("".join(parts), re.IGNORECASE), order


def _numeric_parser(pattern: re.Pattern[str], order: list[str]) -> Parser:
    match = pattern.fullmatch
    at = {name: index for index, name in enumerate(order)}
    year, month, day = at["Y"], at["m"], at["d"]
    hour, minute, second = at.get("H"), at.get("M"), at.get("S")
    fraction, zone = at.get("f"), at.get("z")

    def parse(text: str) -> datetime | None:
        found = match(text)
        if found is None:
            return None
        g = found.groups()
        try:
            return datetime(
                int(g[year]),
                int(g[month]),
                int(g[day]),
                0 if hour is None else int(g[hour]),
                0 if minute is None else int(g[minute]),
                0 if second is None else int(g[second]),
                0 if fraction is None else int(g[fraction].ljust(6, "0")),
                None if zone is None else _offset(g[zone]),
            )
        except ValueError:  # 2024/2/30, 25:00, an offset past 24 hours
            return None

    return parse


def _strptime_parser(fmt: str) -> Parser:
    try:
        datetime.strptime("", fmt)
    except ValueError as exc:
        if "directive" in str(exc) or "stray" in str(exc):
            raise TransformArgsError(f"bad date format {fmt!r}: {exc}") from exc
    strptime = datetime.strptime

    def parse(text: str) -> datetime | None:
        try:
            return strptime(text, fmt)
        except ValueError:
            return None

    return parse


def _iso_parser(text: str) -> datetime | None:
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _epoch_parser(scale: float) -> Parser:
    def parse(text: str) -> datetime | None:
        if "_" in text:
            return None
        try:
            return datetime.fromtimestamp(float(text) / scale, UTC)
        except (ValueError, OverflowError, OSError):
            return None

    return parse


def compile_format(fmt: str) -> Parser:
    """One input format: 'iso', 'epoch', 'epoch_ms', or a strptime format."""
    if fmt == "iso":
        return _iso_parser
    if fmt in ("epoch", "epoch_ms"):
        return _epoch_parser(1000.0 if fmt == "epoch_ms" else 1.0)
    numeric = _numeric_regex(fmt)
    return _numeric_parser(*numeric) if numeric is not None else _strptime_parser(fmt)


def compile_formats(formats: list[str]) -> Callable[[str], datetime]:
    """Try each format in order; the first that parses wins. ValueError when none does."""
    parsers = [compile_format(fmt) for fmt in formats]

    def parse_any(text: str) -> datetime:
        if len(text) <= _MAX_DATE_TEXT:
            for parse in parsers:
                result = parse(text)
                if result is not None:
                    return result
        raise ValueError("no format matched")

    return parse_any
