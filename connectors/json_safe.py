"""Database and Parquet values made JSON-safe, the same way for every source.

Choices (documented in docs/connectors.md):
- Decimal -> str: exact (money must not pick up float error); a transform can make it a number.
- aware datetime -> ISO 8601 with its offset; naive datetime -> ISO 8601 without one (the mapping
  then gives it the account's offset); date -> YYYY-MM-DD; time -> HH:MM:SS[.ffffff].
- bytes -> lowercase hex; UUID -> its canonical string; timedelta -> seconds as a float.
- NaN and infinities -> None (JSON has no spelling for them).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any


def json_safe(value: Any) -> Any:
    """A value JSON can carry, chosen so that nothing is rounded or re-zoned silently."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)
