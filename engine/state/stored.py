"""A stored position as the backends read it back: decoded, or marked with what is wrong with it.

Shared by the backends so "corrupt" and "written by a newer omnisync" mean the same everywhere:
the position is None and `problem` says why; the run refuses such a state (never starts over
silently), `state show` prints the problem and `state reset` clears it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.state.base import SCHEMA_VERSION, StoredPosition
from engine.state.codec import PositionCodecError, decode_position

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def stored_position(
    key: str,
    text: Any,
    fingerprint: Any,
    saved_at: Any,
    where: Any,
    schema: Any = SCHEMA_VERSION,
    problem: str | None = None,
) -> StoredPosition:
    """Build from the stored fields, whatever their state: a bad field becomes `problem`."""
    when = _when(saved_at)
    position = None
    if problem is not None:
        pass
    elif not isinstance(schema, int) or schema > SCHEMA_VERSION:
        problem = f"written by a newer omnisync (schema {schema}, this one knows {SCHEMA_VERSION})"
    elif not isinstance(text, str) or not isinstance(fingerprint, str):
        problem = "corrupt: the position or its fingerprint is missing"
    elif when is None:
        problem = f"corrupt: unreadable save time {saved_at!r}"
    else:
        try:
            position = decode_position(text)
        except PositionCodecError as exc:
            problem = f"corrupt: {exc}"
    return StoredPosition(
        key,
        position,
        fingerprint if isinstance(fingerprint, str) else "",
        when or _EPOCH,
        where if isinstance(where, str) else "?",
        problem,
    )


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None
