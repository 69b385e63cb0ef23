"""`omnisync plan` and `omnisync test`: what a spec's mapping does to rows, sending nothing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine import logging as omnilog
from engine.cli._params import SPEC_FILE, reveal_pii_option
from engine.errors import ExitCode
from engine.specfile import Spec, load_spec_hiding_secrets

if TYPE_CHECKING:
    from engine.run.plan_and_test import CaseResult


@click.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--rows", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@click.option(
    "--offline",
    is_flag=True,
    help="Unset ${VAR}s are notes; a sync whose source needs one is skipped and named.",
)
@click.option(
    "--changes",
    is_flag=True,
    help="Read the whole source, compare with the store: new, changed, unchanged and rejected "
    "records per sync, sample keys and the time the run will take.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="With --changes: markdown is ready to post as a pull-request comment.",
)
@reveal_pii_option("Show source rows, records and reasons in clear (masked by default).")
def plan(
    file: Path,
    rows: int,
    select: tuple[str, ...],
    offline: bool,
    changes: bool,
    form: str,
    reveal_pii: bool,
) -> None:
    """Show what the first rows of each sync would become; send nothing. With --changes: what
    the next run would send, counted over the whole source."""
    from engine.run.plan_and_test import (  # the delivery stack: only when it runs
        preview,
        render_preview,
    )

    spec = load_spec_hiding_secrets(file, allow_unset=offline)
    _notes(spec)
    if changes:
        _changes(spec, file, select, form)
        return
    if offline:
        select = _readable(spec, select)
        if not select:
            click.echo("no sync can be previewed without the unset variables")
            return
    previews = asyncio.run(preview(spec, select, rows))
    click.echo(omnilog.redact(render_preview(previews, reveal=reveal_pii)))


def _changes(spec: Spec, file: Path, select: tuple[str, ...], form: str) -> None:
    from engine.cli import plan_changes
    from engine.run.change_plan import predict

    found = asyncio.run(predict(spec, select))
    shown = {
        "text": lambda: plan_changes.text(found),
        "markdown": lambda: plan_changes.markdown(found, file.name),
        "json": lambda: plan_changes.as_json(found),
    }[form]()
    click.echo(omnilog.redact(shown))


def _readable(spec: Spec, select: tuple[str, ...]) -> tuple[str, ...]:
    """The selected syncs whose source needs no unset variable; the others are named."""
    kept = []
    for sync in spec.syncs:
        if (select and sync.name not in select) or (not select and not sync.enabled):
            continue
        needs = sorted(
            {name for path, names in spec.unset.items() for name in names if _in(path, sync.index)}
        )
        if needs:
            click.echo(f"{sync.name}: skipped: its source needs {', '.join(needs)} (not set)")
        else:
            kept.append(sync.name)
    return tuple(kept)


def _in(path: tuple[str | int, ...], index: int) -> bool:
    return path[:3] == ("syncs", index, "source")


def _notes(spec: Spec) -> None:
    for note in spec.notes:
        click.echo(note, err=True)


@click.command(name="test")
@click.argument("files", nargs=-1, required=True, type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@click.option(
    "--require-tests",
    is_flag=True,
    help="A spec without mapping tests is a failure (exit 4) instead of a note.",
)
def test_command(files: tuple[Path, ...], select: tuple[str, ...], require_tests: bool) -> None:
    """Run the mapping tests declared in the specs (or in <spec>.tests.yaml); exit 4 on a failure.

    Secrets are not needed: an unset ${VAR} is a note. A spec without tests passes with a note
    (a new spec has none yet), unless --require-tests."""
    from engine.run.plan_and_test import run_mapping_tests  # the delivery stack: only when it runs

    results: list[CaseResult] = []
    untested = 0
    for file in files:
        spec = load_spec_hiding_secrets(file, allow_unset=True)
        _notes(spec)
        found = asyncio.run(run_mapping_tests(spec, select))
        _echo_cases(found, f"{file}: " if len(files) > 1 else "")
        if not found:
            untested += 1
            _no_tests(file, require_tests)
        results += found
    failed = sum(not r.passed for r in results)
    without = f", {untested} spec{'s' if untested > 1 else ''} without tests" if untested else ""
    click.echo(f"{len(results) - failed} passed, {failed} failed{without if require_tests else ''}")
    if failed or (require_tests and untested):
        sys.exit(int(ExitCode.MAPPING_TESTS_FAILED))


def _echo_cases(found: list[CaseResult], prefix: str) -> None:
    for result in found:
        click.echo(f"{'PASS' if result.passed else 'FAIL'}  {prefix}{result.sync}: {result.name}")
        if not result.passed:
            click.echo("      " + omnilog.redact(result.detail).replace("\n", "\n      "))


def _no_tests(file: Path, required: bool) -> None:
    how = "add `tests:` to a sync (a row and the record it should give) or a <spec>.tests.yaml"
    if required:
        click.echo(f"{file}: no mapping tests found (--require-tests): {how}", err=True)
    else:
        click.echo(
            f"{file}: no mapping tests: nothing was checked; {how} "
            "(--require-tests makes a spec without them fail)",
            err=True,
        )
