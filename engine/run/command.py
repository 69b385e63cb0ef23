"""One `omnisync run` over one or more specs, as a function: the CLI (`engine/cli/run.py`) and the
Python API (`omnisync.run`) both call `run_command`, so both run the same way and report the same.

The specs are loaded and checked before any runs, then run in the order given in one event loop; a
failed delivery or a signal stops the run before the next spec. `--after-dbt` narrows each spec's
selection to the syncs whose dbt model succeeded (engine/run/after_dbt.py); the others are
reported as skipped with the reason, exit 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from engine import DISTRIBUTION
from engine import logging as omnilog
from engine.errors import ExitCode, OmnisyncError
from engine.outcomes.report import SyncOutcome, SyncStats, report_data
from engine.run.runner import RunOptions, RunResult, run_spec, selected
from engine.specfile import Spec, load_spec_hiding_secrets


@dataclass
class CommandResult:
    """What a whole run gave: each sync's outcome, the run's exit and first error, and `failure`
    when a spec stopped before its syncs ran (its error is the run's, raised by the caller)."""

    outcomes: list[SyncOutcome]
    exit_code: ExitCode
    error: str | None
    failure: OmnisyncError | None
    meta: dict[str, Any] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)  # `expect:` bounds broken: a degraded run

    def report(self) -> dict[str, Any]:
        """The run report, as `--report` writes it and `omnisync.run` returns it."""
        extra = [
            {"spec": o.spec, "reject_file": o.reject_file, "exit_code": o.exit_code}
            for o in self.outcomes
        ]
        stats = [o.stats for o in self.outcomes]
        return report_data(stats, int(self.exit_code), self.meta, extra)


def load_specs(files: Sequence[Path], select: Sequence[str]) -> list[Spec]:
    """Every spec loaded and valid, and every selected name a sync of one, before any runs."""
    specs = [load_spec_hiding_secrets(file) for file in files]
    known = {s.name for spec in specs for s in spec.syncs}
    if unknown := [n for n in select if n not in known]:
        raise OmnisyncError(
            f"no sync named {', '.join(map(repr, unknown))}; the specs have {', '.join(sorted(known))}"
        )
    return specs


def run_command(
    specs: Sequence[Spec],
    options: RunOptions,
    after_dbt: Path | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    handle_signals: bool = True,
) -> CommandResult:
    """Run the specs in order; `on_result` sees each spec's result as it finishes (the CLI's
    summary lines). Signal handlers are installed only in the main thread, when asked."""
    from engine.run.after_dbt import read_run_results

    run_id = uuid.uuid4().hex[:12]
    started = datetime.now(UTC)
    results = read_run_results(after_dbt) if after_dbt is not None else None
    omnilog.bind(run_id=run_id)
    try:
        found = asyncio.run(_run_all(specs, options, results, on_result, handle_signals))
    finally:
        omnilog.unbind("run_id")
    found.meta = {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "omnisync_version": version(DISTRIBUTION),
        "specs": [str(spec.file) for spec in specs],
        "dry_run": options.dry_run,
        **({"after_dbt": str(after_dbt)} if after_dbt is not None else {}),
    }
    return found


def _worse(current: ExitCode, new: ExitCode) -> ExitCode:
    """The exit of the whole run: a failure of any spec, the most serious kind first (a degraded
    run, exit 5, or triggers of unknown outcome, exit 6, only when nothing failed)."""
    mild = (ExitCode.OK, ExitCode.EXPECTATION_BREACHED, ExitCode.OUTCOME_UNKNOWN)
    if current in mild and new in mild:
        return max(current, new)
    if current in mild:
        return new
    return current if new in mild else max(current, new)


def _outcomes(spec: Spec, result: RunResult) -> list[SyncOutcome]:
    by_name = {s.name: s for s in spec.syncs}
    found = []
    for stats in result.syncs:
        sync = by_name[stats.sync]
        code = 0
        if result.error and stats.stopped:  # this one failed, or did not run because of it
            code = int(result.exit_code)
        elif stats.read and stats.rejected / stats.read > sync.max_reject_ratio:
            code = int(ExitCode.REJECTS_EXCEEDED)
        elif stats.unknown:  # triggers of unknown outcome: a person decides (docs/triggers.md)
            code = int(ExitCode.OUTCOME_UNKNOWN)
        reject_file = str(sync.reject_file) if stats.rejected else None
        found.append(SyncOutcome(str(spec.file), stats, code, reject_file))
    return found


def _skipped(spec: Spec, reasons: dict[str, str]) -> list[SyncOutcome]:
    """Syncs left out by --after-dbt: reported, with why, and not a failure."""
    found = []
    for sync in spec.syncs:
        if sync.name in reasons:
            stats = SyncStats(sync.name, stopped=reasons[sync.name])
            stats.finished = stats.started
            found.append(SyncOutcome(str(spec.file), stats, int(ExitCode.OK)))
    return found


def _selection(
    spec: Spec, options: RunOptions, results: dict[str, Any] | None
) -> tuple[tuple[str, ...] | None, dict[str, str]]:
    """This spec's syncs to run (None: none of them) and the syncs skipped after dbt, with why."""
    from engine.run.after_dbt import choose

    names = {s.name for s in spec.syncs}
    mine = tuple(n for n in options.select if n in names)
    if options.select and not mine:
        return None, {}  # --select names syncs of the other specs
    if results is None:
        return mine, {}
    chosen, skipped = choose(spec, mine, results)
    return (chosen or None), skipped


async def _run_all(
    specs: Sequence[Spec],
    options: RunOptions,
    results: dict[str, Any] | None,
    on_result: Callable[[RunResult], None] | None,
    handle_signals: bool,
) -> CommandResult:
    """The specs in order, in one event loop (the stop request belongs to it). A spec that stops
    before any of its syncs ran (a column missing, a destination down) ends the run, its syncs
    reported as not run."""
    import threading

    from engine.run import signals
    from engine.run.change_plan import check_changed_share

    found = CommandResult([], ExitCode.OK, None, None)
    restore = (
        signals.install(asyncio.get_running_loop(), options.stop)
        if handle_signals and threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        for spec in specs:
            mine, skipped = _selection(spec, options, results)
            found.outcomes += _skipped(spec, skipped)
            if mine is None:
                continue
            try:
                await check_changed_share(spec, dataclasses.replace(options, select=mine))
                result = await run_spec(spec, dataclasses.replace(options, select=mine))
            except OmnisyncError as exc:
                if exc.exit_code is ExitCode.EXPECTATION_BREACHED:
                    found.breaches += str(exc).splitlines()
                _not_run(found, spec, mine, exc)
                return found
            found.outcomes += _outcomes(spec, result)
            found.breaches += result.breaches
            if on_result is not None:
                on_result(result)
            found.exit_code = _worse(found.exit_code, result.exit_code)
            found.error = found.error or result.error
            if result.error or options.stop.requested:
                break
    finally:
        if restore is not None:
            restore()
    return found


def _not_run(found: CommandResult, spec: Spec, mine: Sequence[str], exc: OmnisyncError) -> None:
    why = f"not run: {str(exc).splitlines()[0]}"
    found.outcomes += [
        SyncOutcome(str(spec.file), SyncStats(s.name, stopped=why), int(exc.exit_code))
        for s in selected(spec, mine)
    ]
    found.exit_code = _worse(found.exit_code, exc.exit_code)
    found.error = found.error or str(exc)
    found.failure = exc
