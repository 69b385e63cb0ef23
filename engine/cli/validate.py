"""`omnisync validate FILE...`: every problem of every spec at once, without sending anything.

Besides the spec itself, every column a sync names is looked up in its source (a CSV header, a
table's columns...) when the source can be opened; `--offline` leaves the sources alone.
"""

from __future__ import annotations

from pathlib import Path

import click
import structlog

from engine.cli._params import SPEC_FILE
from engine.errors import OmnisyncError, SpecError
from engine.specfile import Spec, load_spec_hiding_secrets

log = structlog.get_logger("omnisync")


@click.command()
@click.argument("files", nargs=-1, required=True, type=SPEC_FILE)
@click.option(
    "--offline", is_flag=True, help="Check the spec alone; do not open its sources for columns."
)
def validate(files: tuple[Path, ...], offline: bool) -> None:
    """Check spec files (and the columns they name, in their sources) without sending anything."""
    failed: list[str] = []
    for file in files:
        try:
            spec = load_spec_hiding_secrets(file)
        except SpecError as exc:
            failed.extend(exc.lines)
            continue
        problems = [] if offline else _column_problems(spec)
        failed.extend(problems)
        if not problems:
            count = len(spec.syncs)
            click.echo(f"{file}: ok ({count} sync{'s' if count != 1 else ''})")
    if failed:
        raise SpecError(failed)


def _column_problems(spec: Spec) -> list[str]:
    """Missing columns; a source that cannot be opened is skipped with a warning, not an error."""
    from engine.columns import column_errors, source_of  # sources load when they are opened
    from engine.plugins import load_registry

    registry = load_registry()
    lines: list[str] = []
    for sync in spec.syncs:
        try:
            lines += column_errors(spec, sync, source_of(spec, sync, registry))
        except OmnisyncError as exc:
            click.echo(
                f"{sync.name}: columns not checked, the source cannot be opened: {exc}", err=True
            )
    return lines
