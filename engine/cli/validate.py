"""`omnisync validate FILE...`: every problem of every spec at once, without reading a row."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli._params import SPEC_FILE
from engine.errors import SpecError
from engine.specfile import load_spec_hiding_secrets


@click.command()
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
