"""`omnisync plan` and `omnisync test`: what a spec's mapping does to rows, sending nothing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from engine import logging as omnilog
from engine.cli._params import SPEC_FILE, reveal_pii_option
from engine.errors import ExitCode
from engine.specfile import load_spec_hiding_secrets


@click.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--rows", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@reveal_pii_option("Show source rows, records and reasons in clear (masked by default).")
def plan(file: Path, rows: int, select: tuple[str, ...], reveal_pii: bool) -> None:
    """Show what the first rows of each sync would become; send nothing."""
    from engine.preview import preview, render_preview  # the delivery stack: only when it runs

    spec = load_spec_hiding_secrets(file)
    previews = asyncio.run(preview(spec, select, rows))
    click.echo(omnilog.redact(render_preview(previews, reveal=reveal_pii)))


@click.command(name="test")
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
def test_command(file: Path, select: tuple[str, ...]) -> None:
    """Run the mapping tests declared in the spec (or in <spec>.tests.yaml); exit 4 on a failure."""
    from engine.preview import run_mapping_tests  # the delivery stack: only when it runs

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
        sys.exit(int(ExitCode.MAPPING_TESTS_FAILED))
