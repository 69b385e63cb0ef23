"""`omnisync run FILE`: deliver a spec's syncs, then one summary line per sync."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import structlog

from engine import logging as omnilog
from engine.cli._params import SECONDS, SPEC_FILE, reveal_pii_option
from engine.errors import ExitCode
from engine.specfile import Spec, load_spec_hiding_secrets
from engine.stop import StopRequest

if TYPE_CHECKING:  # the delivery stack (aiohttp) is imported when a run starts, not at start-up
    from engine.runner import RunOptions, RunResult

log = structlog.get_logger("omnisync")


@click.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Run only this sync (repeatable).")
@click.option("--dry-run", is_flag=True, help="Read, map and check every row; send nothing.")
@click.option(
    "--report", type=click.Path(path_type=Path, dir_okay=False), help="Write a JSON report."
)
@reveal_pii_option("Personal data in clear in the reject file and the logs.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore and clear the stored positions of the selected syncs; read from the start and "
    "send every record, unchanged or not.",
)
@click.option(
    "--grace",
    type=SECONDS,
    default=10.0,
    show_default=True,
    help="Seconds requests in flight get to finish after SIGINT/SIGTERM.",
)
def run(
    file: Path,
    select: tuple[str, ...],
    dry_run: bool,
    report: Path | None,
    reveal_pii: bool,
    full_refresh: bool,
    grace: float,
) -> None:
    """Run the syncs of a spec. Exit: 0 ok, 1 delivery failed, 2 spec invalid, 3 too many
    rejects, 70 internal error, 130/143 stopped by SIGINT/SIGTERM (the report is still written)."""
    from engine import progress
    from engine.report import write_report
    from engine.runner import RunOptions

    spec = load_spec_hiding_secrets(file)
    options = RunOptions(
        select=select,
        dry_run=dry_run,
        reveal_pii=reveal_pii,
        stop=StopRequest(grace),
        progress=progress.wanted(),
        full_refresh=full_refresh,
    )
    result = asyncio.run(_run_with_signals(spec, options))
    if report is not None:
        write_report(report, result.syncs, int(result.exit_code))
    _summarise(result, dry_run)
    if result.exit_code is not ExitCode.OK:
        sys.exit(int(result.exit_code))


async def _run_with_signals(spec: Spec, options: RunOptions) -> RunResult:
    from engine import signals
    from engine.runner import run_spec

    restore = signals.install(asyncio.get_running_loop(), options.stop)
    try:
        return await run_spec(spec, options)
    finally:
        restore()


def _summarise(result: RunResult, dry_run: bool) -> None:
    totals = {"rows_read": 0, "delivered": 0, "rejected": 0, "filtered": 0, "requests": 0}
    for stats in result.syncs:
        data = stats.as_dict()
        for key in totals:
            totals[key] += data[key]
        for note in stats.notes:
            click.echo(f"{data['sync']}: {note}")
        if stats.resumed_from is not None:
            click.echo(f"{data['sync']}: resumed after {stats.resumed_from}")
        click.echo(
            f"{data['sync']}: read {data['rows_read']}, delivered {data['delivered']}, "
            + (f"unchanged {data['unchanged']}, " if data["unchanged"] else "")
            + f"rejected {data['rejected']}, filtered {data['filtered']}, "
            + (f"failed {data['failed']}, " if data["failed"] else "")
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
    if result.error:
        click.echo(f"error: {omnilog.redact(result.error)}", err=True)
    elif result.exit_code is ExitCode.REJECTS_EXCEEDED:
        click.echo("error: rejected rows exceed max_reject_ratio; see the reject file", err=True)
