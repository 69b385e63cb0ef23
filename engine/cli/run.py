"""`omnisync run FILE...`: deliver the syncs of one or more specs, then one summary line per sync,
one report and one Markdown step summary for the whole run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from engine import logging as omnilog
from engine.cli._params import SECONDS, SPEC_FILE, reveal_pii_option
from engine.errors import ExitCode
from engine.run.stop import StopRequest

if TYPE_CHECKING:  # the delivery stack (aiohttp) is imported when a run starts, not at start-up
    from engine.outcomes.report import SyncOutcome
    from engine.run.command import CommandResult
    from engine.run.runner import RunResult

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
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the run as one self-contained HTML page (requests per second against the limit, "
    "records per sync, rejects by reason).",
)
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the run's Prometheus metrics here (a textfile-collector .prom file).",
)
@click.option(
    "--pushgateway",
    envvar="OMNISYNC_PUSHGATEWAY",
    metavar="URL",
    help="Push the run's Prometheus metrics to this Pushgateway (default $OMNISYNC_PUSHGATEWAY).",
)
@reveal_pii_option("Personal data in clear in the reject file and the logs.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore and clear the stored positions of the selected syncs; read from the start and "
    "send every record, unchanged or not.",
)
@click.option(
    "--resend-unknown",
    is_flag=True,
    help="Event syncs (docs/triggers.md): send again the triggers an earlier run sent without a "
    "known outcome (a crash, a lost answer); they may reach a member twice (docs/triggers.md).",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Run the syncs one after the other and stop at the first failure (default: run every "
    "sync, report each).",
)
@click.option(
    "--after-dbt",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="RUN_RESULTS",
    help="dbt's run_results.json: run only the syncs whose dbt model succeeded in that dbt run; "
    "report the others as skipped, with the reason.",
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
    html_file: Path | None,
    metrics_file: Path | None,
    pushgateway: str | None,
    reveal_pii: bool,
    full_refresh: bool,
    resend_unknown: bool,
    fail_fast: bool,
    grace: float,
    after_dbt: Path | None,
) -> None:
    """Run the syncs of one or more specs, in the order given. Exit: 0 ok, 1 delivery failed,
    2 spec invalid, 3 too many rejects, 5 an `expect:` bound broken (a degraded run), 6 triggers
    of unknown outcome left unsent (--resend-unknown sends them), 70 internal
    error, 130/143 stopped by SIGINT/SIGTERM (the report is still written)."""
    from engine.outcomes import progress, step_summary
    from engine.outcomes.report import open_private
    from engine.run.command import load_specs, run_command
    from engine.run.runner import RunOptions

    if notify_webhook:  # a webhook URL carries its own token
        omnilog.register_secrets([notify_webhook])
    if pushgateway and "@" in pushgateway:  # user:password@host
        omnilog.register_secrets([pushgateway])
    specs = load_specs(files, select)  # every spec valid before any runs
    options = RunOptions(
        select=select,
        dry_run=dry_run,
        reveal_pii=reveal_pii,
        stop=StopRequest(grace),
        progress=progress.wanted(),
        heartbeat=heartbeat or None,
        full_refresh=full_refresh,
        fail_fast=fail_fast,
        resend_unknown=resend_unknown,
    )
    found = run_command(specs, options, after_dbt, lambda result: _summarise(result, dry_run))
    _say_skipped(found.outcomes)
    _tell_breaches(found.breaches)
    if report is not None:
        with open_private(report) as handle:
            handle.write(orjson.dumps(found.report(), option=orjson.OPT_INDENT_2) + b"\n")
    if html_file is not None:
        _write_html(html_file, found.outcomes, int(found.exit_code), found.meta)
    step_summary.write(
        step_summary.markdown(
            found.outcomes, int(found.exit_code), found.error, dry_run, found.breaches
        ),
        summary_file,
    )
    _notify(found, notify_webhook)
    if metrics_file is not None or pushgateway:
        _metrics(found.outcomes, int(found.exit_code), found.breaches, metrics_file, pushgateway)
    if found.failure is not None and found.failure.exit_code is not ExitCode.EXPECTATION_BREACHED:
        raise found.failure  # a spec stopped before its syncs ran: its message, its exit code
    if found.exit_code is not ExitCode.OK:
        sys.exit(int(found.exit_code))


def _notify(found: CommandResult, webhook: str | None) -> None:
    """The webhook message of a run that failed or degraded; nothing for a healthy one."""
    from engine.outcomes import notify

    if webhook and (found.exit_code is not ExitCode.OK or found.breaches):
        run_id = str(found.meta["run_id"])
        code, error = int(found.exit_code), found.error
        notify.send(
            webhook, notify.failure_text(found.outcomes, code, error, run_id, found.breaches)
        )


def _say_skipped(outcomes: list[SyncOutcome]) -> None:
    """--after-dbt: each sync left out, and why."""
    for outcome in outcomes:
        if (outcome.stats.stopped or "").startswith("skipped"):
            click.echo(f"{outcome.stats.sync}: {outcome.stats.stopped}")


def _write_html(
    path: Path, outcomes: list[SyncOutcome], exit_code: int, meta: dict[str, object]
) -> None:
    from engine.outcomes.html_report import render
    from engine.outcomes.report import open_private

    with open_private(path) as handle:  # rejects' reasons: owner-only like the report
        handle.write(render(outcomes, meta, exit_code).encode("utf-8"))


def _metrics(
    outcomes: list[SyncOutcome],
    exit_code: int,
    breaches: list[str],
    path: Path | None,
    gateway: str | None,
) -> None:
    from engine.outcomes import metrics  # prometheus-client: only when metrics are asked for

    registry = metrics.collect(outcomes, exit_code, breaches)
    if path is not None:
        metrics.write_file(path, registry)
    if gateway:
        metrics.push(gateway, registry)


def _tell_breaches(breaches: list[str]) -> None:
    """Each broken `expect:` bound on stderr, and as an annotation in GitHub Actions (stdout)."""
    from engine.run.expect import github_annotations

    for breach in breaches:
        click.echo(f"expect: {omnilog.redact(breach)}", err=True)
    for line in github_annotations([omnilog.redact(b) for b in breaches]):
        click.echo(line)


def _summarise_triggers(
    data: dict[str, Any], dry_run: bool, would: list[str], skipped: list[str]
) -> None:
    """An event sync's line: triggered, skipped in the window, outcome unknown (with keys)."""
    name = data["sync"]
    click.echo(
        f"{name}: read {data['rows_read']}, "
        + (f"would trigger {data['unsent']}, " if dry_run else f"triggered {data['triggered']}, ")
        + f"skipped (already triggered in the window) {data['skipped_in_window']}, "
        + f"outcome unknown {data['outcome_unknown']}, "
        + f"rejected {data['rejected']}, filtered {data['filtered']}, "
        + (f"failed {data['failed']} (outcome unknown), " if data["failed"] else "")
        + (f"unsent {data['unsent']}, " if data["unsent"] and not dry_run else "")
        + f"{data['requests']} requests, {data['elapsed_s']:.2f}s"
        + (" (dry run)" if dry_run else "")
    )
    if dry_run:
        for label, keys, total in (
            ("would trigger", would, data["unsent"]),
            ("skipped", skipped, data["skipped_in_window"]),
        ):
            if keys:
                more = f" (and {total - len(keys)} more)" if total > len(keys) else ""
                click.echo(f"{name}: {label}: {', '.join(keys)}{more}")
    unknown = data["outcome_unknown_keys"]
    if unknown:
        shown = ", ".join(unknown[:UNKNOWN_SHOWN])
        more = (
            f" (and {len(unknown) - UNKNOWN_SHOWN} more in the report)"
            if len(unknown) > UNKNOWN_SHOWN
            else ""
        )
        click.echo(
            f"{name}: outcome unknown, not sent again: {shown}{more}; "
            "`omnisync run --resend-unknown` sends them"
        )


UNKNOWN_SHOWN = 50  # keys of unknown outcome listed on the terminal (all of them in the report)


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
        if stats.events:
            _summarise_triggers(data, dry_run, stats.would_trigger, stats.skipped_keys)
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
