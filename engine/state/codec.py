"""Positions as JSON text with type tags, so a stored position comes back with the exact types.

A SQL cursor must resume with the value it was stored with: a naive datetime stays naive, an aware
one keeps its zone (a zoneinfo key, or a fixed offset), a Decimal keeps its digits and exponent,
bytes stay bytes and tuples stay tuples. JSON-native scalars (str, int, float, bool, None) are
written as they are; everything else is an object {"$": tag, "v": ...}. Unknown types are refused
rather than stringified, so a position that cannot round-trip is never stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.lazy import lazy_module
from engine.rows import Position

if TYPE_CHECKING:
    import zoneinfo
else:  # its time zone database, when a stored time names a zone
    zoneinfo = lazy_module("zoneinfo")


class PositionCodecError(ValueError):
    """A position holds a value that cannot be stored exactly, or stored text is not a position."""


def encode_position(position: Position) -> str:
    return json.dumps(_encode(tuple(position)), ensure_ascii=False, separators=(",", ":"))


def decode_position(text: str) -> Position:
    try:
        value = _decode(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise PositionCodecError(f"not a stored position: {exc}") from None
    if not isinstance(value, tuple):
        raise PositionCodecError("not a stored position: the top level is not a tuple")
    return value


def _encode(value: Any) -> Any:
    # bool before int (bool is an int); exact types only, a subclass may not round-trip
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dt.datetime):
        return _encode_datetime(value)
    if isinstance(value, dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise PositionCodecError(f"cannot store a time with a zone: {value!r}")
        return {"$": "time", "v": value.isoformat(), **({"fold": 1} if value.fold else {})}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$": "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, uuid.UUID):
        return {"$": "uuid", "v": str(value)}
    raise PositionCodecError(f"cannot store a position value of type {type(value).__name__}")


def _encode_datetime(value: dt.datetime) -> dict[str, Any]:
    """The wall time, its fold and its zone, kept apart: an aware time in a zoneinfo zone round-trips
    even inside a DST gap or fold, where an offset alone would not say which wall time it was."""
    out: dict[str, Any] = {"$": "datetime", "v": value.replace(tzinfo=None).isoformat()}
    if value.fold:
        out["fold"] = 1
    tz = value.tzinfo
    if isinstance(tz, zoneinfo.ZoneInfo) and tz.key:
        out["zone"] = tz.key
    elif tz is not None:
        offset = tz.utcoffset(value)
        if offset is None:
            raise PositionCodecError(f"cannot store a datetime whose zone has no offset: {value!r}")
        out["offset"] = [offset.days, offset.seconds, offset.microseconds]
    return out


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag, raw = value["$"], value["v"]
    if tag == "tuple":
        return tuple(_decode(item) for item in raw)
    if tag == "datetime":
        moment = dt.datetime.fromisoformat(raw).replace(fold=value.get("fold", 0))
        if "zone" in value:
            return moment.replace(tzinfo=zoneinfo.ZoneInfo(value["zone"]))
        if "offset" in value:
            days, seconds, micros = value["offset"]
            return moment.replace(tzinfo=dt.timezone(dt.timedelta(days, seconds, micros)))
        return moment
    if tag == "date":
        return dt.date.fromisoformat(raw)
    if tag == "time":
        return dt.time.fromisoformat(raw).replace(fold=value.get("fold", 0))
    if tag == "decimal":
        return Decimal(raw)
    if tag == "bytes":
        return base64.b64decode(raw, validate=True)
    if tag == "uuid":
        return uuid.UUID(raw)
    if tag == "float":
        return float(raw)
    raise ValueError(f"unknown tag {tag!r}")


def render_position(position: Position) -> str:
    """A readable rendering when the source cannot locate the position itself."""
    return ", ".join(_render(item) for item in position)


def _render(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return "(" + render_position(value) + ")"
    return repr(value)
