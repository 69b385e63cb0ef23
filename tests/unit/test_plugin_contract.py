"""The optional parts of the plugin contract, and the commands plugins add to `omnisync`."""

from __future__ import annotations

from typing import Any, ClassVar

import click

from connectors.csv import CsvSource
from connectors.sql import SqlSource
from engine import contracts
from engine.cli.main import add_plugin_commands
from engine.contracts import EstimatesTotal, HasCommands, estimated_total, plugin_commands
from engine.plugins import Registry, load_registry


@click.command()
def hello() -> None:
    """A plugin's command."""


class _Commanding:
    """A source that brings a command and an estimate, implementing the protocols structurally."""

    config_schema: ClassVar[dict[str, Any]] = {}
    cli_commands: ClassVar[tuple[click.Command, ...]] = (hello,)

    def estimate_total(self) -> int | None:
        return 42


def test_the_omnisegment_destination_brings_the_sandbox_command() -> None:
    destination = load_registry().destinations["omnisegment"]

    assert isinstance(destination, HasCommands)
    assert [command.name for command in plugin_commands(destination)] == ["sandbox"]


def test_plugins_without_the_optional_members_offer_nothing() -> None:
    assert not isinstance(SqlSource, HasCommands)
    assert plugin_commands(SqlSource) == ()
    assert not isinstance(object.__new__(SqlSource), EstimatesTotal)
    assert estimated_total(object.__new__(SqlSource)) is None


def test_a_source_with_an_estimate_gives_it() -> None:
    assert isinstance(object.__new__(CsvSource), EstimatesTotal)
    assert estimated_total(_Commanding()) == 42  # type: ignore[arg-type]


def test_sources_and_destinations_add_their_commands_to_the_group() -> None:
    group = click.Group()
    registry = Registry(
        sources={"mine": _Commanding},  # type: ignore[dict-item]
        destinations=load_registry().destinations,
    )

    add_plugin_commands(group, registry)

    assert sorted(group.commands) == ["hello", "sandbox"]
    assert group.commands["hello"] is hello


def test_the_contract_module_exports_what_it_declares() -> None:
    for name in contracts.__all__:
        assert hasattr(contracts, name), name
