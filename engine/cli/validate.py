"""`omnisync validate FILE...`: every problem of every spec at once, without sending anything.

Besides the spec itself, every column a sync names is looked up in its source (a CSV header, a
table's columns...) when the source can be opened; `--offline` leaves the sources alone. Unset
${VAR}s are notes (a pull request from a fork has no secrets); `--require-env` makes them errors,
for a scheduled job that checks its secrets before it runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine import logging as omnilog
from engine.cli._params import SPEC_FILE
from engine.cli.findings import FileResult, as_json, finding, github
from engine.errors import SpecError
from engine.specfile import load_spec_hiding_secrets


@click.command()
@click.argument("files", nargs=-1, required=True, type=SPEC_FILE)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: workflow commands that annotate the pull request's diff.",
)
@click.option("--require-env", is_flag=True, help="An unset ${VAR} is an error, not a note.")
@click.option(
    "--offline", is_flag=True, help="Check the spec alone; do not open its sources for columns."
)
def validate(files: tuple[Path, ...], output: str, require_env: bool, offline: bool) -> None:
    """Check spec files (and the columns they name, in their sources) without sending anything."""
    results = [_check(file, require_env, offline) for file in files]
    if output == "json":
        click.echo(as_json(results))
    elif output == "github":
        for line in github(results):
            click.echo(omnilog.redact(line))
    else:
        _text(results)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(int(SpecError.exit_code))


def _check(file: Path, require_env: bool, offline: bool) -> FileResult:
    name = str(file)
    try:
        spec = load_spec_hiding_secrets(file, allow_unset=not require_env)
    except SpecError as exc:
        found = [finding(name, "error", line) for line in exc.lines]
        found += [finding(name, "warning", line) for line in exc.warnings]
        return FileResult(name, None, [*found, *(finding(name, "notice", n) for n in exc.notes)])
    notes = [finding(name, "warning", line) for line in spec.warnings]
    notes += [finding(name, "notice", line) for line in spec.notes]
    if not offline and not spec.notes:  # a source named through an unset ${VAR} is not opened
        from engine.run.columns import column_problems  # sources load when they are opened

        missing, skipped = column_problems(spec)
        notes += [finding(name, "error", line) for line in missing]
        notes += [finding(name, "notice", line) for line in skipped]
    return FileResult(name, len(spec.syncs), notes)


def _text(results: list[FileResult]) -> None:
    for result in results:
        for item in result.findings:
            click.echo(omnilog.redact(item.text), err=item.level != "notice")
        if result.ok:
            count = f"{result.syncs} sync{'s' if result.syncs != 1 else ''}"
            click.echo(f"{result.file}: ok ({count})")
