"""The `omnisync` group. Errors become one clear message and a distinct exit code, here only."""

from __future__ import annotations

import os
from typing import Any

import click

from engine import logging as omnilog
from engine.cli.info import plugins, schema
from engine.cli.preview import plan, test_command
from engine.cli.rejects import rejects_group
from engine.cli.run import run
from engine.cli.state import state_group
from engine.cli.validate import validate
from engine.contracts import Destination, Source, plugin_commands
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.plugins import Registry, load_registry


class OmnisyncGroup(click.Group):
    """A group whose commands' errors end the process with the exit code of their kind."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise  # click shows them; a usage error exits 2, like an invalid spec
        except click.Abort:
            click.echo("aborted", err=True)
            raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
        except SpecError as exc:
            for line in exc.lines:
                click.echo(omnilog.redact(line), err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except OmnisyncError as exc:
            click.echo(f"error: {omnilog.redact(str(exc))}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:  # a bug of ours: one clear line, the traceback only on request
            if os.environ.get("OMNISYNC_TRACEBACK") == "1":
                raise
            message = omnilog.redact(f"{type(exc).__name__}: {exc}")
            click.echo(
                f"internal error: {message} (set OMNISYNC_TRACEBACK=1 for details)", err=True
            )
            raise click.exceptions.Exit(ExitCode.INTERNAL_ERROR) from None


@click.group(cls=OmnisyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    os.umask(0o077)  # what omnisync writes (state, rejects, reports) may hold personal data
    omnilog.configure(log_format, log_level)


for _command in (validate, run, plan, test_command, schema, plugins, state_group, rejects_group):
    cli.add_command(_command)


def add_plugin_commands(group: click.Group, registry: Registry) -> None:
    """Sources and destinations may bring commands of their own (the OmniSegment sandbox)."""
    providers: list[type[Source] | type[Destination]] = [
        *registry.sources.values(),
        *registry.destinations.values(),
    ]
    for plugin in providers:
        for command in plugin_commands(plugin):
            group.add_command(command)


def main() -> None:
    """The console script: the built-in commands, the plugins' commands, exit codes for errors."""
    add_plugin_commands(cli, load_registry())
    cli.main()
