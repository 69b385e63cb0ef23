"""Durations as a spec writes them: `90`, `1.5`, `30s`, `10m`, `2h`, `1d` (seconds when bare)."""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")

SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": _DURATION.pattern},
    ],
    "description": "seconds, or a number with a unit: 500ms, 30s, 10m, 2h, 1d",
}


def parse_duration(value: Any) -> float:
    """Seconds; ValueError with the accepted forms for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return float(value)
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"not a duration: {value!r} (write e.g. 30s, 10m, 2h)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]
