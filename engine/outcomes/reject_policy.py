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
        """The message when the sync ended with more rejects than max_reject_ratio allows.

        Every row rejected is no threshold question: the mapping (or the data) is wrong, and the
        message says to look at why rather than to raise the ratio."""
        if not read or rejected <= self.max_ratio * read:
            return None
        if rejected >= read:
            return (
                f"{self.sync}: every row was rejected ({read} of {read}): the mapping or the data "
                f"is wrong, not the threshold; see why in {self.reject_file} (or run `omnisync "
                "plan` on the spec) and fix the mapping"
            )
        return (
            f"{self.sync}: {rejected} of {read} rows rejected ({rejected / read:.2%}), more than "
            f"max_reject_ratio {self.max_ratio:g}; the rows that were not rejected went on as "
            f"usual; fix the rows listed with their reason in {self.reject_file}, or raise "
            "`max_reject_ratio` if this many rejects is acceptable"
        )
