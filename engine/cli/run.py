"""`omnisync run FILE...`: deliver the syncs of one or more specs, then one summary line per sync,
one report and one Markdown step summary for the whole run."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import uuid
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine import DISTRIBUTION
from engine import logging as omnilog
from engine.cli._params import SECONDS, SPEC_FILE, reveal_pii_option
from engine.errors import ExitCode, OmnisyncError
from engine.run.stop import StopRequest
from engine.specfile import Spec, load_spec_hiding_secrets

if TYPE_CHECKING:  # the delivery stack (aiohttp) is imported when a run starts, not at start-up
    from engine.outcomes.report import SyncOutcome
    from engine.run.runner import RunOptions, RunResult

log = omnilog.get_logger("omnisync")


@click.command()
@click.argument("files", nargs=-1, required=True, type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Run only this sync (repeatable).")
@click.option("--dry-run", is_flag=True, help="Read, map and check every row; send nothing.")
@click.option(
    "--report", type=click.Path(path_type=Path, dir_okay=False), help="Write a JSON report."
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when that is set).",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Off a terminal: a JSON heartbeat log event every N seconds (0: none).",
)
@click.option(
    "--notify-webhook",
    envvar="OMNISYNC_NOTIFY_WEBHOOK",
    metavar="URL",
    help="On failure, POST a Slack-compatible message here (default $OMNISYNC_NOTIFY_WEBHOOK).",
)
@reveal_pii_option("Personal data in clear in the reject file and the logs.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore and clear the stored positions of the selected syncs; read from the start and "
    "send every record, unchanged or not.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Run the syncs one after the other and stop at the first failure (default: run every "
    "sync, report each).",
)
@click.option(
    "--grace",
    type=SECONDS,
    default=10.0,
    show_default=True,
    help="Seconds requests in flight get to finish after SIGINT/SIGTERM.",
)
def run(
    files: tuple[Path, ...],
    select: tuple[str, ...],
    dry_run: bool,
    report: Path | None,
    summary_file: Path | None,
    heartbeat: float,
    notify_webhook: str | None,
    reveal_pii: bool,
    full_refresh: bool,
    fail_fast: bool,
    grace: float,
) -> None:
    """Run the syncs of one or more specs, in the order given. Exit: 0 ok, 1 delivery failed,
    2 spec invalid, 3 too many rejects, 70 internal error, 130/143 stopped by SIGINT/SIGTERM
    (the report is still written)."""
    from engine.outcomes import notify, progress, step_summary
    from engine.run.runner import RunOptions

    if notify_webhook:  # a webhook URL carries its own token
        omnilog.register_secrets([notify_webhook])
    specs = [load_spec_hiding_secrets(file) for file in files]  # every spec valid before any runs
    _check_selection(specs, select)
    run_id = uuid.uuid4().hex[:12]
    started = datetime.now(UTC)
    omnilog.bind(run_id=run_id)
    options = RunOptions(
        select=select,
        dry_run=dry_run,
        reveal_pii=reveal_pii,
        stop=StopRequest(grace),
        progress=progress.wanted(),
        heartbeat=heartbeat or None,
        full_refresh=full_refresh,
        fail_fast=fail_fast,
    )
    try:
        outcomes, exit_code, error, failure = asyncio.run(_run_all(specs, options))
    finally:
        omnilog.unbind("run_id")
    if report is not None:
        _write_report(report, outcomes, exit_code, _run_meta(run_id, started, files, dry_run))
    step_summary.write(
        step_summary.markdown(outcomes, int(exit_code), error, dry_run), summary_file
    )
    if notify_webhook and exit_code is not ExitCode.OK:
        notify.send(notify_webhook, notify.failure_text(outcomes, int(exit_code), error, run_id))
    if failure is not None:  # a spec stopped before its syncs ran: its message, its exit code
        raise failure
    if exit_code is not ExitCode.OK:
        sys.exit(int(exit_code))


def _check_selection(specs: list[Spec], select: tuple[str, ...]) -> None:
    """A --select naming no sync of any spec is refused before anything runs."""
    known = {s.name for spec in specs for s in spec.syncs}
    if unknown := [n for n in select if n not in known]:
        raise OmnisyncError(
            f"no sync named {', '.join(map(repr, unknown))}; the specs have {', '.join(sorted(known))}"
        )


def _run_meta(
    run_id: str, started: datetime, files: tuple[Path, ...], dry_run: bool
) -> dict[str, object]:
    """What the whole run was, at the top of the report: its id, times, version and specs."""
    return {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "omnisync_version": version(DISTRIBUTION),
        "specs": [str(f) for f in files],
        "dry_run": dry_run,
    }


def _write_report(
    path: Path, outcomes: list[SyncOutcome], exit_code: ExitCode, meta: dict[str, object]
) -> None:
    """The JSON report: the run, then each sync's counters with its spec, reject file and exit."""
    from engine.outcomes.report import write_report

    extra = [
        {"spec": o.spec, "reject_file": o.reject_file, "exit_code": o.exit_code} for o in outcomes
    ]
    write_report(path, [o.stats for o in outcomes], int(exit_code), meta, extra)


def _has(spec: Spec, name: str) -> bool:
    return any(s.name == name for s in spec.syncs)


def _worse(current: ExitCode, new: ExitCode) -> ExitCode:
    """The exit of the whole run: a failure of any spec, the most serious kind first."""
    if current is ExitCode.OK:
        return new
    return current if new is ExitCode.OK else max(current, new)


def _outcomes(spec: Spec, result: RunResult) -> list[SyncOutcome]:
    from engine.outcomes.report import SyncOutcome

    by_name = {s.name: s for s in spec.syncs}
    found = []
    for stats in result.syncs:
        sync = by_name[stats.sync]
        code = 0
        if result.error and stats.stopped:  # this one failed, or did not run because of it
            code = int(result.exit_code)
        elif stats.read and stats.rejected / stats.read > sync.max_reject_ratio:
            code = int(ExitCode.REJECTS_EXCEEDED)
        reject_file = str(sync.reject_file) if stats.rejected else None
        found.append(SyncOutcome(str(spec.file), stats, code, reject_file))
    return found


async def _run_all(
    specs: list[Spec], options: RunOptions
) -> tuple[list[SyncOutcome], ExitCode, str | None, OmnisyncError | None]:
    """The specs in order, in one event loop (the stop request belongs to it); a failed delivery
    or a signal stops the run before the next spec. A spec that stops before any of its syncs
    ran (a column missing, a destination down) is returned last, its syncs reported as not run."""
    from engine.outcomes.report import SyncOutcome, SyncStats
    from engine.run import signals
    from engine.run.runner import run_spec, selected

    outcomes: list[SyncOutcome] = []
    exit_code, error = ExitCode.OK, None
    restore = signals.install(asyncio.get_running_loop(), options.stop)
    try:
        for spec in specs:
            mine = tuple(n for n in options.select if _has(spec, n))
            if options.select and not mine:
                continue  # --select names syncs of the other specs
            try:
                result = await run_spec(spec, dataclasses.replace(options, select=mine))
            except OmnisyncError as exc:
                why = f"not run: {str(exc).splitlines()[0]}"
                code = int(exc.exit_code)
                outcomes += [
                    SyncOutcome(str(spec.file), SyncStats(s.name, stopped=why), code)
                    for s in selected(spec, mine)
                ]
                return outcomes, _worse(exit_code, exc.exit_code), error or str(exc), exc
            outcomes += _outcomes(spec, result)
            _summarise(result, options.dry_run)
            exit_code = _worse(exit_code, result.exit_code)
            error = error or result.error
            if result.error or options.stop.requested:
                break
    finally:
        restore()
    return outcomes, exit_code, error, None


def _summarise(result: RunResult, dry_run: bool) -> None:
    totals = {"rows_read": 0, "delivered": 0, "rejected": 0, "filtered": 0, "requests": 0}
    for stats in result.syncs:
        data = stats.as_dict()
        for key in totals:
            totals[key] += data[key]
        for note in stats.notes:
            click.echo(f"{data['sync']}: {note}")
        for warning in stats.warnings:
            click.echo(f"{data['sync']}: warning: {warning}")
        if stats.resumed_from is not None:
            click.echo(f"{data['sync']}: resumed after {stats.resumed_from}")
        if str(data["stopped"] or "").startswith("not run"):
            click.echo(f"{data['sync']}: {data['stopped']}")
            continue
        click.echo(
            f"{data['sync']}: read {data['rows_read']}, delivered {data['delivered']}, "
            + (f"unchanged {data['unchanged']}, " if data["unchanged"] else "")
            + f"rejected {data['rejected']}, filtered {data['filtered']}, "
            + (f"failed {data['failed']}, " if data["failed"] else "")
            + (f"left the source {n}, " if (n := data["left_the_source"]) else "")
            + (f"would send {data['unsent']}, " if dry_run else "")
            + (f"unsent {data['unsent']}, " if data["unsent"] and not dry_run else "")
            + f"{data['requests']} requests, {data['elapsed_s']:.2f}s, "
            f"{data['records_per_s']:.0f} records/s" + (" (dry run)" if dry_run else "")
        )
    # syncs overlap: the run took from the first start to the last finish, not their sum
    elapsed = (
        max(s.started + s.elapsed for s in result.syncs) - min(s.started for s in result.syncs)
        if result.syncs
        else 0.0
    )
    log.info(
        "run_summary",
        **totals,
        elapsed_s=round(elapsed, 3),
        records_per_s=round(totals["delivered"] / elapsed, 1) if elapsed else 0.0,
        exit_code=int(result.exit_code),
    )
    for error in (result.error or "").splitlines():
        click.echo(f"error: {omnilog.redact(error)}", err=True)
