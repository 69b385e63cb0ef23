"""`omnisync rejects replay FILE`: send the rejected rows again once the spec or the data is fixed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from engine.cli._params import SPEC_FILE
from engine.specfile import load_spec_hiding_secrets


@click.group(name="rejects")
def rejects_group() -> None:
    """Work with the reject files of a spec's syncs."""


@rejects_group.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
def replay(file: Path, select: tuple[str, ...]) -> None:
    """Read the rejected rows again from their source, map them with the current spec, send those
    that now pass and mark them resolved in the reject file."""
    from engine.run.replay import replay_spec  # the delivery stack loads only for this command

    spec = load_spec_hiding_secrets(file)
    for result in asyncio.run(replay_spec(spec, select)):
        if not result.listed:
            click.echo(f"{result.sync}: no unresolved rejected rows")
            continue
        held = f", {result.unchanged} already held by the API" if result.unchanged else ""
        click.echo(
            f"{result.sync}: {result.listed} rejected rows: {result.delivered} delivered and marked "
            f"resolved{held}, {result.refused} rejected again, {result.missing} no longer in the "
            "source"
        )
