"""The two reject thresholds of a sync, and the messages that say which setting to change.

- `max_reject_ratio` (default 0) decides the exit code once the sync ended, after every good row
  was delivered: a nightly run with 1% bad rows delivers the other 99%, and CI still sees exit 3.
- `early_stop: {ratio, after}` stops at once a sync whose mapping is plainly broken (more than half
  of the first thousand rows rejected, by default), instead of rejecting millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import RejectBudgetExceeded


@dataclass(frozen=True)
class RejectPolicy:
    sync: str
    reject_file: Path
    max_ratio: float = 0.0
    early_ratio: float = 0.5
    early_after: int = 1000

    def check_early(self, rejected: int, read: int) -> None:
        """Raise when the share of rejects past `early_after` rows says the mapping is broken."""
        if read >= self.early_after and rejected > self.early_ratio * read and self.early_ratio < 1:
            raise RejectBudgetExceeded(
                f"{self.sync}: stopped early: {rejected} of the first {read} rows rejected, more "
                f"than early_stop.ratio {self.early_ratio:g} after {self.early_after} rows; the "
                f"mapping or the data looks broken (see {self.reject_file}); change `early_stop` "
                "to let such a run go on"
            )

    def exceeded(self, rejected: int, read: int) -> str | None:
        """The message when the sync ended with more rejects than max_reject_ratio allows."""
        if not read or rejected <= self.max_ratio * read:
            return None
        return (
            f"{self.sync}: {rejected} of {read} rows rejected ({rejected / read:.2%}), more than "
            f"max_reject_ratio {self.max_ratio:g}; every other row was delivered; the rejected "
            f"rows are in {self.reject_file}; raise `max_reject_ratio` to accept this many"
        )
