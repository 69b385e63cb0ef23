"""The small values of a sync's block read into typed form: rates, early stop, durations, in_source.

Apart from model.py so the spec's objects and checks stay readable; each parser is given a value
the schema already accepted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.durations import parse_duration
from engine.errors import SpecIssue

MIN_RATE = 1 / 60  # requests per second
MAX_RATE = 10_000.0
_RATE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$")


@dataclass(frozen=True)
class EarlyStop:
    """Stop a sync at once when, past `after` rows read, more than `ratio` of them were rejected.

    Separate from max_reject_ratio, which only decides the exit code once every good row is sent:
    a nightly run with 1% bad rows delivers the 99%, a mapping that rejects half stops early."""

    ratio: float = 0.5
    after: int = 1000


def parse_rate(value: float | str | None) -> float | None:
    """'10/s' -> 10.0, '600/min' -> 10.0; numbers are requests per second."""
    if value is None or isinstance(value, int | float):
        return value
    match = _RATE.match(value)
    if match is None:  # the schema's pattern already refused it
        raise ValueError(value)
    amount, unit = float(match.group(1)), match.group(2)
    return amount / 60 if unit.startswith("m") else amount


def rate_issues(path: tuple[str | int, ...], delivery: Mapping[str, Any]) -> list[SpecIssue]:
    """Between one request a minute and MAX_RATE a second: 0/s would never send, .inf never wait."""
    written = delivery.get("rate_limit")
    if written is None:
        return []
    rate = parse_rate(written)
    if rate is not None and MIN_RATE <= rate <= MAX_RATE:
        return []
    return [SpecIssue(path, f"{written!r} is out of range: from 1/min to {MAX_RATE:g}/s")]


def parse_early_stop(block: Mapping[str, Any], default: EarlyStop) -> EarlyStop:
    """`early_stop: {ratio, after}`; the older `min_rows_for_reject_ratio` still sets `after`."""
    given = dict(block.get("early_stop") or {})
    after = given.get("after", block.get("min_rows_for_reject_ratio", default.after))
    return EarlyStop(float(given.get("ratio", default.ratio)), int(after))


def seconds(value: Any) -> float | None:
    """A duration (`once_per: 1d`, `lookback: 10m`) in seconds; None when it is not given."""
    return None if value is None else parse_duration(value)


def in_source_options(value: Any) -> Mapping[str, Any] | None:
    """The options of `change_detection: in_source` / `{in: source, ...}`; None otherwise."""
    if value == "in_source":
        return {}
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k != "in"}
    return None
