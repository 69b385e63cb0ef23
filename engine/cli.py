"""The `omnisync` command. Errors become one clear message and a distinct exit code, here only."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click
import structlog

from engine import logging as omnilog
from engine import progress, signals
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.plugins import GROUPS, load_registry
from engine.preview import preview, render_preview, run_mapping_tests
from engine.report import write_report
from engine.runner import RunOptions, RunResult, run_spec
from engine.specfile import Spec, load_spec_hiding_secrets
from engine.specfile.schema import compose_schema
from engine.state.commands import state_group
from engine.stop import StopRequest

log = structlog.get_logger("omnisync")

SPEC_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-format",
    type=click.Choice(["json", "console"]),
    default=None,
    help="Default: console on a terminal, json otherwise.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="debug adds one event per HTTP request.",
)
@click.version_option(package_name="omnisync")
def cli(log_format: str | None, log_level: str) -> None:
    """Declarative syncs from CSV, SQL and S3 into OmniSegment's import APIs."""
    omnilog.configure(log_format, log_level)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=SPEC_FILE)
def validate(files: tuple[Path, ...]) -> None:
    """Check spec files without reading any row or sending anything."""
    failed: list[str] = []
    for file in files:
        try:
            spec = load_spec_hiding_secrets(file)
        except SpecError as exc:
            failed.extend(exc.lines)
            continue
        click.echo(f"{file}: ok ({len(spec.syncs)} sync{'s' if len(spec.syncs) != 1 else ''})")
    if failed:
        raise SpecError(failed)


@cli.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Run only this sync (repeatable).")
@click.option("--dry-run", is_flag=True, help="Read, map and check every row; send nothing.")
@click.option(
    "--report", type=click.Path(path_type=Path, dir_okay=False), help="Write a JSON report."
)
@click.option(
    "--reveal-pii", is_flag=True, help="Write personal fields in clear in the reject file."
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore and clear the stored positions of the selected syncs; read from the start.",
)
@click.option(
    "--grace",
    type=float,
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
    rejects, 130/143 stopped by SIGINT/SIGTERM (the report is still written)."""
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
    elapsed = sum(s.elapsed for s in result.syncs)
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


@cli.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--rows", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
def plan(file: Path, rows: int, select: tuple[str, ...]) -> None:
    """Show what the first rows of each sync would become; send nothing."""
    spec = load_spec_hiding_secrets(file)
    click.echo(omnilog.redact(render_preview(asyncio.run(preview(spec, select, rows)))))


@cli.command(name="test")
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
def test_command(file: Path, select: tuple[str, ...]) -> None:
    """Run the mapping tests declared in the spec (or in <spec>.tests.yaml); exit 1 on a failure."""
    spec = load_spec_hiding_secrets(file)
    results = asyncio.run(run_mapping_tests(spec, select))
    for result in results:
        click.echo(f"{'PASS' if result.passed else 'FAIL'}  {result.sync}: {result.name}")
        if not result.passed:
            click.echo("      " + omnilog.redact(result.detail).replace("\n", "\n      "))
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if not results:
        click.echo(
            "no mapping tests found: add `tests:` to a sync or a <spec>.tests.yaml", err=True
        )
    if failed or not results:
        sys.exit(1)


@cli.command()
def schema() -> None:
    """Print the spec's JSON Schema, with the installed plugins' blocks."""
    click.echo(json.dumps(compose_schema(load_registry()), indent=2, ensure_ascii=False))


@cli.command()
def plugins() -> None:
    """List the installed sources, destinations, transforms and state backends."""
    registry = load_registry()
    for kind in GROUPS:
        names = sorted(registry.kind(kind))
        click.echo(f"{kind}:")
        for name in names:
            click.echo(f"  {name:<16} ({registry.origins[(kind, name)]})")
    for broken in registry.broken:
        click.echo(f"failed to load: {broken}", err=True)


cli.add_command(state_group)


def _add_plugin_commands() -> None:
    """Destinations may bring commands of their own (the OmniSegment sandbox)."""
    for destination in load_registry().destinations.values():
        for command in getattr(destination, "cli_commands", ()):
            cli.add_command(command)


def main() -> None:
    _add_plugin_commands()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.SPEC_INVALID if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except SpecError as exc:
        for line in exc.lines:
            click.echo(omnilog.redact(line), err=True)
        sys.exit(int(exc.exit_code))
    except OmnisyncError as exc:
        click.echo(f"error: {omnilog.redact(str(exc))}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:  # a bug of ours: one clear line, the traceback only on request
        if os.environ.get("OMNISYNC_TRACEBACK") == "1":
            raise
        message = omnilog.redact(f"{type(exc).__name__}: {exc}")
        click.echo(f"internal error: {message} (set OMNISYNC_TRACEBACK=1 for details)", err=True)
        sys.exit(int(ExitCode.DELIVERY_FAILED))
