"""The run report as typed objects: what `omnisync run --report` writes, read field by field.

`RunReport.as_dict()` is the report file's JSON, key for key, so an orchestrator can keep it
(Airflow's XCom, Dagster's metadata) and `RunReport.from_dict` read it back in another process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExitCode, OmnisyncError


@dataclass(frozen=True)
class SyncReport:
    """One sync of one spec: its counts, its reject file, its exit (0 ok, 1 failed, 3 too many
    rejects, 6 triggers of unknown outcome) and, when it stopped early or did not run, why
    (`stopped`). An event sync (workflow_trigger) also has `triggered`, `skipped_in_window`,
    `outcome_unknown` and `outcome_unknown_keys` (docs/triggers.md); other syncs None."""

    spec: str
    sync: str
    rows_read: int
    delivered: int
    unchanged: int
    filtered: int
    rejected: int
    failed: int
    unsent: int
    requests: int
    elapsed_s: float
    exit_code: int
    reject_file: str | None
    stopped: str | None
    endpoint: str | None
    triggered: int | None = None
    skipped_in_window: int | None = None
    outcome_unknown: int | None = None
    outcome_unknown_keys: tuple[str, ...] | None = None

    @property
    def skipped(self) -> bool:
        """Left out on purpose (`after_dbt`): not run, and not a failure."""
        return (self.stopped or "").startswith("skipped")

    @property
    def ran(self) -> bool:
        """The sync read its source (whatever came of it); False when it was not run or skipped."""
        return not (self.skipped or (self.stopped or "").startswith("not run"))

    @property
    def reject_ratio(self) -> float:
        return self.rejected / self.rows_read if self.rows_read else 0.0


@dataclass(frozen=True)
class RunReport:
    """A whole run: its id, exit and first error, and every sync's report, in the specs' order."""

    run_id: str
    exit_code: ExitCode
    error: str | None
    started_at: str
    finished_at: str
    specs: tuple[str, ...]
    dry_run: bool
    syncs: tuple[SyncReport, ...]
    data: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code is ExitCode.OK

    def sync(self, name: str) -> SyncReport:
        """The report of the sync called `name` (KeyError when the run had none)."""
        for report in self.syncs:
            if report.sync == name:
                return report
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """The report as `omnisync run --report` writes it (JSON-safe)."""
        return dict(self.data)

    def raise_for_exit(self) -> RunReport:
        """Itself when the run exited 0; RunFailed with the run's exit code and error otherwise."""
        if not self.ok:
            raise RunFailed(self)
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], error: str | None = None) -> RunReport:
        """A report read back from `as_dict()` or a report file."""
        syncs = tuple(
            SyncReport(
                spec=str(s.get("spec", "")),
                sync=str(s["sync"]),
                rows_read=int(s["rows_read"]),
                delivered=int(s["delivered"]),
                unchanged=int(s["unchanged"]),
                filtered=int(s["filtered"]),
                rejected=int(s["rejected"]),
                failed=int(s["failed"]),
                unsent=int(s["unsent"]),
                requests=int(s["requests"]),
                elapsed_s=float(s["elapsed_s"]),
                exit_code=int(s.get("exit_code", 0)),
                reject_file=s.get("reject_file"),
                stopped=s.get("stopped"),
                endpoint=s.get("endpoint"),
                triggered=s.get("triggered"),
                skipped_in_window=s.get("skipped_in_window"),
                outcome_unknown=s.get("outcome_unknown"),
                outcome_unknown_keys=(
                    tuple(s["outcome_unknown_keys"]) if "outcome_unknown_keys" in s else None
                ),
            )
            for s in data["syncs"]
        )
        return cls(
            run_id=str(data["run_id"]),
            exit_code=ExitCode(int(data["exit_code"])),
            error=error if error is not None else data.get("error"),
            started_at=str(data["started_at"]),
            finished_at=str(data["finished_at"]),
            specs=tuple(str(s) for s in data["specs"]),
            dry_run=bool(data["dry_run"]),
            syncs=syncs,
            data={**data, "error": error if error is not None else data.get("error")},
        )


class RunFailed(OmnisyncError):
    """The run ran and exited non-zero; `report` says what each sync did, `exit_code` is the
    CLI's exit code for the same run."""

    def __init__(self, report: RunReport) -> None:
        super().__init__(report.error or f"the run exited {int(report.exit_code)}")
        self.report = report
        self.exit_code = report.exit_code
