"""Compiling date input formats into fast parsers, and reading time zones.

`datetime.strptime` costs several microseconds a call (locale lock, regex cache lookup). Most real
formats only use numeric fields, so those are compiled here into one regex plus `datetime(...)`;
any other directive (%b, %y, %p, ...) falls back to strptime for that format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.transforms.base import TransformArgsError

Parser = Callable[[str], datetime]
"""Text -> datetime (naive, or aware when the text carried an offset); ValueError when no match."""

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
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TransformArgsError(f"unknown time zone {text!r}") from exc


def _offset(text: str) -> tzinfo:
    """The zone of a matched %z field ([+-]HH[:]MM or Z); ValueError past 24 hours."""
    if text in ("z", "Z"):
        return UTC
    delta = timedelta(hours=int(text[1:3]), minutes=int(text[-2:]))
    return timezone(-delta if text[0] == "-" else delta)


def _numeric_regex(fmt: str) -> re.Pattern[str] | None:
    """A regex for a format made of numeric directives and literals, or None if it has others."""
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            directive = fmt[i + 1 : i + 2]
            if directive == "%":
                parts.append("%")
            elif directive in _FIELDS and directive not in seen:
                seen.add(directive)
                parts.append(_FIELDS[directive])
            else:
                return None
            i += 2
            continue
        parts.append(r"\s+" if ch.isspace() else re.escape(ch))
        i += 1
    if not {"Y", "m", "d"} <= seen:
        return None
    return re.compile("".join(parts), re.IGNORECASE)


def _numeric_parser(pattern: re.Pattern[str]) -> Parser:
    match = pattern.fullmatch

    def parse(text: str) -> datetime:
        found = match(text)
        if found is None:
            raise ValueError("no match")
        g = found.groupdict()
        micro = int(g["f"].ljust(6, "0")) if g.get("f") else 0
        zone = _offset(g["z"]) if g.get("z") else None
        return datetime(
            int(g["Y"]),
            int(g["m"]),
            int(g["d"]),
            int(g.get("H") or 0),
            int(g.get("M") or 0),
            int(g.get("S") or 0),
            micro,
            zone,
        )

    return parse


def _strptime_parser(fmt: str) -> Parser:
    try:
        datetime.strptime("", fmt)
    except ValueError as exc:
        if "directive" in str(exc) or "stray" in str(exc):
            raise TransformArgsError(f"bad date format {fmt!r}: {exc}") from exc
    strptime = datetime.strptime

    def parse(text: str) -> datetime:
        return strptime(text, fmt)

    return parse


def _iso_parser(text: str) -> datetime:
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day)
    return datetime.fromisoformat(text)


def _epoch_parser(scale: float) -> Parser:
    def parse(text: str) -> datetime:
        if "_" in text:
            raise ValueError("underscore in epoch")
        return datetime.fromtimestamp(float(text) / scale, UTC)

    return parse


def compile_format(fmt: str) -> Parser:
    """One input format: 'iso', 'epoch', 'epoch_ms', or a strptime format."""
    if fmt == "iso":
        return _iso_parser
    if fmt in ("epoch", "epoch_ms"):
        return _epoch_parser(1000.0 if fmt == "epoch_ms" else 1.0)
    pattern = _numeric_regex(fmt)
    return _numeric_parser(pattern) if pattern is not None else _strptime_parser(fmt)


def compile_formats(formats: list[str]) -> Parser:
    """Try each format in order; the first that parses wins. ValueError when none does."""
    parsers = [compile_format(fmt) for fmt in formats]
    if len(parsers) == 1:
        only = parsers[0]

        def parse_one(text: str) -> datetime:
            if len(text) > _MAX_DATE_TEXT:
                raise ValueError("too long")
            return only(text)

        return parse_one

    def parse_any(text: str) -> datetime:
        if len(text) > _MAX_DATE_TEXT:
            raise ValueError("too long")
        for parse in parsers:
            try:
                return parse(text)
            except (ValueError, OverflowError, OSError):
                continue
        raise ValueError("no format matched")

    return parse_any
