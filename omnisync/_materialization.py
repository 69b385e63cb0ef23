"""What a sync's materialization says in Dagster, in plain values: shared by the in-process assets
(omnisync/dagster.py) and the Pipes child (omnisync/pipes.py), which has no Dagster to import."""

from __future__ import annotations

from typing import Any

from engine.errors import ExitCode
from omnisync.report import SyncReport

REJECT_RATIO_CHECK = "reject_ratio"
COUNTS = ("rows_read", "delivered", "unchanged", "filtered", "rejected", "failed")


def materializes(sync: SyncReport) -> bool:
    """A sync that ran to its end (also one over its reject ratio: it delivered) materializes;
    one that failed, did not run or was skipped does not."""
    return sync.ran and sync.exit_code in (ExitCode.OK, ExitCode.REJECTS_EXCEEDED)


def metadata(sync: SyncReport, run_id: str) -> dict[str, Any]:
    """The counts, the reject file (a path, or None), the run id and the sync's exit."""
    counts: dict[str, Any] = {name: getattr(sync, name) for name in COUNTS}
    reject_file = (
        {"raw_value": sync.reject_file, "type": "path"} if sync.reject_file is not None else None
    )
    return {
        **counts,
        "reject_file": reject_file,
        "run_id": run_id,
        "exit_code": sync.exit_code,
        "elapsed_s": sync.elapsed_s,
    }


def check_outcome(sync: SyncReport, limit: float) -> tuple[bool, dict[str, Any]]:
    """The reject-ratio check of a sync that ran: (passed, metadata)."""
    ratio = sync.reject_ratio
    return ratio <= limit, {
        "reject_ratio": round(ratio, 6),
        "max_reject_ratio": limit,
        "rejected": sync.rejected,
        "rows_read": sync.rows_read,
    }
