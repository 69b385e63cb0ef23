"""Field and value checks shared by the sandbox's record checks, from the reference pages' wording.

Not from schemas/. A check returns a `Problem` (ERR_TYPE_KEY, message) or None; `where` is the
path shown in ERR_MSG, e.g. data[3].birthday.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson

Problem = tuple[str, str] | None
"""(ERR_TYPE_KEY, message) of a 400 answer, or None when the value is acceptable."""
Envelope = dict[str, Any]
"""The request body around the records: its options (merge_key, identifier_field) steer checks."""
INPUT = "Input Error"
MISSING = "Missing Input Error"

_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)"
)
_VOUCHER = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:([+-])(\d{2})(?::?(\d{2}))?)?)?"
)
_EMAIL = re.compile(r"[^@\s]{1,64}@(?:[^@\s.]+\.)+(?!\d+$)[^@\s.]{2,}")  # TLD: not all digits
CLEARING = ("", "none", None)
"""Import-Audience-API: "" and null keep a value under ignore_empty_value: true, "none" clears it;
all three clear it under false. Either way they are accepted."""


def is_text(value: Any) -> bool:
    """Any string, empty included: the reference's plain "string" fields."""
    return isinstance(value, str)


def is_filled(value: Any) -> bool:
    """A non-empty string: what the reference means by a required text field."""
    return isinstance(value, str) and value != ""


def is_int(value: Any) -> bool:
    """An integer that is not a boolean (JSON true is no number to the API)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float, booleans excluded."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> timezone | None:
    if sign is None or hours is None:
        return None
    h, m = int(hours), int(minutes or 0)
    if h > 23 or m > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=h, minutes=m)
    return timezone(delta if sign == "+" else -delta)


def parse_date(value: Any) -> date | None:
    """YYYY-MM-DD, a real calendar day."""
    match = _YMD.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def parse_iso_datetime(value: Any) -> datetime | None:
    """ISO 8601 date and time with an offset (Z, +08, +0800, +08:00); naive ones are refused."""
    match = _ISO.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    y, mo, d, h, mi, s, frac, zone, sign, oh, om = match.groups()
    try:
        tz = UTC if zone == "Z" else _offset(sign, oh, om)
        micro = int((frac or "0").ljust(6, "0"))
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), micro, tzinfo=tz)
    except ValueError:
        return None


def parse_voucher_date(value: Any) -> datetime | None:
    """The forms of Import-Gift-Voucher Note 2: a date, or date and time (space or T), offset optional."""
    match = _VOUCHER.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    try:
        return datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
            tzinfo=_offset(sign, oh, om),
        )  # fmt: skip
    except ValueError:
        return None


def is_email(value: Any) -> bool:
    """name@domain.tld: one @, no spaces, a dotted domain (openapi.yaml: format email)."""
    if not isinstance(value, str) or len(value) > 254 or _EMAIL.fullmatch(value) is None:
        return False
    labels = value.rsplit("@", 1)[1].split(".")
    return all(not (label.startswith("-") or label.endswith("-")) for label in labels)


def is_url(value: Any) -> bool:
    """An http(s) URL with a host and no whitespace, as product links must be."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def text_fields(
    item: dict[str, Any], names: tuple[str, ...], where: str, *, nullable: bool
) -> Problem:
    """The first of `names` present that is not a string (nor null, when `nullable`)."""
    for name in names:
        if name in item:
            value = item[name]
            if not (is_text(value) or (nullable and value is None)):
                return INPUT, f"{where}.{name} should be a string"
    return None


def json_object_fields(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The first of `names` present that is not a JSON object written as text: Event-Tracking-API
    calls event_label a "json format string" and a product's variant a "json formatted string",
    and every example is an object ('{"color": "藍色"}')."""
    for name in names:
        if name in item:
            value = item[name]
            try:  # strict JSON: no NaN, no trailing text
                parsed = orjson.loads(value) if isinstance(value, str) else None
            except orjson.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                return INPUT, f"{where}.{name} should be a JSON object written as a string"
    return None


def filled_fields(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The first of `names` present that is not a non-empty string."""
    for name in names:
        if name in item and not is_filled(item[name]):
            return INPUT, f"{where}.{name} should be a non-empty string"
    return None


def bool_fields(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The first of `names` present that is not a boolean."""
    for name in names:
        if name in item and not isinstance(item[name], bool):
            return INPUT, f"{where}.{name} should be a boolean"
    return None


def int_fields(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The first of `names` present that is not an integer."""
    for name in names:
        if name in item and not is_int(item[name]):
            return INPUT, f"{where}.{name} should be an integer"
    return None


def iso_fields(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The first of `names` present that is not an ISO 8601 datetime with an offset."""
    for name in names:
        if name in item and parse_iso_datetime(item[name]) is None:
            return INPUT, f"{where}.{name} should be an ISO 8601 datetime with a time zone"
    return None


def need(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The required `names` that are absent, null or empty, all in one message."""
    missing = [n for n in names if item.get(n) in (None, "")]
    if missing:
        return MISSING, f"{where} requires {', '.join(missing)}"
    return None


def only(item: dict[str, Any], allowed: frozenset[str], where: str) -> Problem:
    """The first field outside `allowed`: the reference refuses unknown fields there."""
    extra = sorted(set(item) - allowed)
    if extra:
        return INPUT, f"{where}.{extra[0]} is not a known field"
    return None


def need_member(
    item: dict[str, Any], where: str, key: str = "member_sn", pair: bool = True
) -> Problem:
    """The member is named by `key`, or (with `pair`) by source_id with source_system."""
    if is_filled(item.get(key)):
        return None
    if pair and is_filled(item.get("source_id")) and is_filled(item.get("source_system")):
        return None
    alternative = " or source_id with source_system" if pair else ""
    return MISSING, f"{where} requires {key}{alternative}"


def first(*problems: Problem) -> Problem:
    """The first problem found; arguments are evaluated eagerly, which is fine for a sandbox."""
    return next((p for p in problems if p is not None), None)


def custom_fields(
    item: dict[str, Any], known: frozenset[str], limit: int, where: str, *, extra: bool = False
) -> Problem:
    """Every custom field (outside `known`) that is neither text up to `limit` nor a number, all
    named in one message, as a server that checks a whole record would answer."""
    bad = [n for n in sorted(set(item) - known) if not custom_value(item[n], limit, extra=extra)]
    if bad:
        names = ", ".join(f"{where}.{name}" for name in bad)
        return INPUT, f"{names}: custom text fields hold at most {limit} characters"
    return None


def custom_value(value: Any, limit: int, *, extra: bool = False) -> bool:
    """A custom field: text up to `limit` characters or a number (plus booleans/null with `extra`)."""
    if isinstance(value, str):
        return len(value) <= limit
    if extra and (isinstance(value, bool) or value is None):
        return True
    return is_number(value)
