"""How long to wait before trying again, separate from deciding what an answer means."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.contracts import Verdict


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * factor**attempt))."""

    base: float
    cap: float
    attempts: int  # retries after the first try
    factor: float = 2.0
    jitter: bool = True

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * self.factor ** (attempt - 1))
        wait = rng.uniform(0, ceiling) if self.jitter else ceiling
        return max(wait, retry_after or 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    # 429: short, jittered, honouring Retry-After.
    throttled: Backoff = Backoff(base=0.5, cap=30.0, attempts=12)
    # 502/503/504: the vendor's policy, every five minutes at most five times.
    unavailable: Backoff = Backoff(base=300.0, cap=300.0, attempts=5, factor=1.0, jitter=False)
    # timeouts, resets, other 5xx.
    transient: Backoff = Backoff(base=1.0, cap=30.0, attempts=6)

    def backoff_for(self, verdict: Verdict | None) -> Backoff | None:
        """None means do not retry (accepted, rejected, refused credentials, no such route)."""
        if verdict is Verdict.THROTTLED:
            return self.throttled
        if verdict is Verdict.UNAVAILABLE:
            return self.unavailable
        if verdict is None or verdict is Verdict.FAILED:  # None: no answer at all
            return self.transient
        return None

    @classmethod
    def from_spec(cls, block: Mapping[str, Any] | None) -> RetryPolicy:
        """`delivery.retry: {unavailable: {interval: 5, attempts: 5, backoff: 1}, ...}`."""
        if not block:
            return cls()
        default = cls()
        kinds = {}
        for kind in ("throttled", "unavailable", "transient"):
            current: Backoff = getattr(default, kind)
            given = block.get(kind, {})
            kinds[kind] = Backoff(
                base=float(given.get("interval", current.base)),
                cap=float(given.get("max_interval", max(current.cap, given.get("interval", 0)))),
                attempts=int(given.get("attempts", current.attempts)),
                factor=float(given.get("backoff", current.factor)),
                jitter=bool(given.get("jitter", current.jitter)),
            )
        return cls(**kinds)
