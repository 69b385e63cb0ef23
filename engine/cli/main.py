"""The `omnisync` group. Errors become one clear message and a distinct exit code, here only.

A command's module is imported when that command runs (or `--help` lists it): `omnisync validate`
never loads what `run` needs.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from engine import DISTRIBUTION
from engine import logging as omnilog
from engine.contracts import Destination, Source, plugin_commands
from engine.errors import ExitCode, OmnisyncError, SpecError
from engine.plugins import Registry, load_registry

COMMANDS = {  # name -> module:attribute
    "validate": "engine.cli.validate:validate",
    "run": "engine.cli.run:run",
    "plan": "engine.cli.plan_and_test:plan",
    "test": "engine.cli.plan_and_test:test_command",
    "schema": "engine.cli.info:schema",
    "plugins": "engine.cli.info:plugins",
    "state": "engine.cli.state:state_group",
    "rejects": "engine.cli.rejects:rejects_group",
    "history": "engine.cli.history:history",
    "why": "engine.cli.why:why",
}


class OmnisyncGroup(click.Group):
    """A group whose commands load on demand and whose errors end the process with the exit code
    of their kind."""

    _plugins_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()  # first: a plugin's command takes the place of a built-in one
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def _add_plugin_commands(self) -> None:
        if not self._plugins_added:
            add_plugin_commands(self, load_registry())
            self._plugins_added = True

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
@click.version_option(package_name=DISTRIBUTION, prog_name="omnisync")
def cli(log_format: str | None, log_level: str) -> None:
    """Declarative syncs from CSV, SQL and S3 into OmniSegment's import APIs."""
    os.umask(0o077)  # what omnisync writes (state, rejects, reports) may hold personal data
    omnilog.configure(log_format, log_level)


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
    cli.main()
