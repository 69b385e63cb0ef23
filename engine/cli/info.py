"""`omnisync schema` and `omnisync plugins`: what this installation understands."""

from __future__ import annotations

import json

import click

from engine.plugins import GROUPS, load_registry
from engine.specfile.schema import compose_schema


@click.command()
def schema() -> None:
    """Print the spec's JSON Schema, with the installed plugins' blocks."""
    click.echo(json.dumps(compose_schema(load_registry()), indent=2, ensure_ascii=False))


@click.command()
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
