"""The `omnisync` group. Errors become one clear message and a distinct exit code, here only.

A command's module is imported when that command runs: `omnisync validate` never loads what `run`
needs, and `--help` lists the built-in commands by the summaries in COMMANDS (a test keeps each
one equal to its command's own help).
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

COMMANDS = {  # name -> (module:attribute, the first paragraph of its help, as `--help` lists it)
    "validate": (
        "engine.cli.validate:validate",
        "Check spec files (and the columns they name, in their sources) without sending anything.",
    ),
    "run": (
        "engine.cli.run:run",
        "Run the syncs of one or more specs, in the order given. Exit: 0 ok, 1 delivery failed,"
        " 2 spec invalid, 3 too many rejects, 5 an `expect:` bound broken (a degraded run), 6 "
        "triggers of unknown outcome left unsent (--resend-unknown sends them), 70 internal "
        "error, 130/143 stopped by SIGINT/SIGTERM (the report is still written).",
    ),
    "plan": (
        "engine.cli.plan_and_test:plan",
        "Show what the first rows of each sync would become; send nothing. With --changes: what"
        " the next run would send, counted over the whole source.",
    ),
    "test": (
        "engine.cli.plan_and_test:test_command",
        "Run the mapping tests declared in the specs (or in <spec>.tests.yaml); exit 4 on a "
        "failure.",
    ),
    "schema": (
        "engine.cli.info:schema",
        "Print the spec's JSON Schema, with the installed plugins' blocks and transforms; a "
        "value may be a ${VAR} wherever the environment may give it. "
        "schema/omnisync.schema.json is this output.",
    ),
    "plugins": (
        "engine.cli.info:plugins",
        "List the installed sources, destinations, transforms and state backends.",
    ),
    "state": (
        "engine.cli.state:state_group",
        "Inspect or reset the stored positions (where each sync resumes).",
    ),
    "rejects": (
        "engine.cli.rejects:rejects_group",
        "Work with the reject files of a spec's syncs.",
    ),
    "history": (
        "engine.cli.history:history",
        "The spec's runs, newest first: when, exit code, commit, CI run and each sync's counts.",
    ),
    "why": (
        "engine.cli.why:why",
        "What happened to the record with this key (the destination's record key, e.g. a member"
        " number), run by run: sent, unchanged, rejected and why, filtered, left the source.",
    ),
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
            module, attribute = COMMANDS[cmd_name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`--help` lists a built-in command not loaded yet by its summary here: listing every
        command would otherwise import what each one needs (`run` its whole delivery stack)."""
        names = self.list_commands(ctx)
        shown: list[tuple[str, click.Command | None]] = []
        for name in names:
            command = self.commands.get(name)
            if command is None and name not in COMMANDS:
                command = self.get_command(ctx, name)
                if command is None:
                    continue
            if command is None or not command.hidden:
                shown.append((name, command))
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        rows = [
            (name, (command or summary_of(name)).get_short_help_str(limit))
            for name, command in shown
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def summary_of(name: str) -> click.Command:
    """A stand-in for a built-in command in `--help`'s list: its summary, not its module."""
    return click.Command(name, help=COMMANDS[name][1])


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
