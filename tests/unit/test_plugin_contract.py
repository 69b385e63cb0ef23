"""The optional parts of the plugin contract, and the commands plugins add to `omnisync`."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import click

from connectors.csv import CsvSource
from connectors.jsonl import JsonlSource
from connectors.sql import SqlSource
from engine import contracts
from engine.cli.main import add_plugin_commands
from engine.contracts import (
    EstimatesTotal,
    ForgetsRecords,
    HasCommands,
    LeavesNotes,
    LooksBack,
    NamesCursors,
    NamesRoute,
    endpoint_route,
    estimated_total,
    keeps_records,
    plugin_commands,
    source_cursors,
    source_notes,
    supports_lookback,
)
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


def test_the_omnisegment_destination_brings_the_sandbox_and_init_commands() -> None:
    destination = load_registry().destinations["omnisegment"]

    assert isinstance(destination, HasCommands)
    assert [command.name for command in plugin_commands(destination)] == ["sandbox", "init"]


def test_plugins_without_the_optional_members_offer_nothing() -> None:
    assert not isinstance(SqlSource, HasCommands)
    assert plugin_commands(SqlSource) == ()
    assert not isinstance(object.__new__(JsonlSource), EstimatesTotal)
    assert estimated_total(object.__new__(JsonlSource)) is None


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

    assert sorted(group.commands) == ["hello", "init", "sandbox"]
    assert group.commands["hello"] is hello


def test_the_contract_module_exports_what_it_declares() -> None:
    for name in contracts.__all__:
        assert hasattr(contracts, name), name


class _Declaring:
    """A source declaring every optional source feature by having the member, no base class."""

    config_schema: ClassVar[dict[str, Any]] = {}
    cursors: ClassVar[frozenset[str]] = frozenset({"changed_at"})
    supports_lookback: ClassVar[bool] = True

    def __init__(self) -> None:
        self.notes = ["2 column names were padded"]  # what the reading found, for the report


class _Bare:
    """A source with only the members every source has."""

    config_schema: ClassVar[dict[str, Any]] = {}


class _Routed:
    """An endpoint naming the URL path it sends to."""

    route_path = "/v1/things"


class _Forgetful:
    """A destination whose records are gone after the run (an embedded sandbox)."""

    def forgets_records(self) -> bool:
        return True


def test_a_source_declaring_each_optional_feature_is_recognised() -> None:
    assert isinstance(_Declaring, NamesCursors)  # class attributes, asked of the class
    assert isinstance(_Declaring, LooksBack)
    assert isinstance(_Declaring(), LeavesNotes)  # asked of the instance that read
    assert source_cursors(_Declaring) == frozenset({"changed_at"})
    assert supports_lookback(_Declaring)
    assert source_notes(_Declaring()) == ("2 column names were padded",)  # type: ignore[arg-type]


def test_a_source_without_the_optional_members_takes_the_defaults() -> None:
    """No cursor names: any column may be the cursor; no lookback; nothing noted."""
    assert not isinstance(_Bare, NamesCursors | LooksBack)
    assert not isinstance(_Bare(), LeavesNotes)
    assert source_cursors(_Bare) is None
    assert not supports_lookback(_Bare)
    assert source_notes(_Bare()) == ()  # type: ignore[arg-type]


def test_the_built_in_sources_declare_their_cursors_and_lookback() -> None:
    """Files name their own cursor; SQL takes any column (None) and reads behind its mark."""
    assert source_cursors(CsvSource) == frozenset({"modified"})
    assert not supports_lookback(CsvSource)
    assert isinstance(SqlSource, NamesCursors)
    assert source_cursors(SqlSource) is None
    assert supports_lookback(SqlSource)


def test_an_endpoint_naming_its_route_is_recognised() -> None:
    assert isinstance(_Routed(), NamesRoute)
    assert endpoint_route(_Routed()) == "/v1/things"  # type: ignore[arg-type]
    assert endpoint_route(object()) is None  # type: ignore[arg-type]


def test_the_omnisegment_endpoint_names_its_route() -> None:
    async def endpoint() -> Any:
        connection = {"base_url": "http://127.0.0.1:9", "tid": "T", "api_key": "K"}
        async with load_registry().destinations["omnisegment"](connection) as opened:
            return opened.endpoint({"endpoint": "audience", "mode": "single"})

    assert endpoint_route(asyncio.run(endpoint())) == "/ma_audience/import-audience/"


def test_a_destination_that_forgets_its_records_is_recognised() -> None:
    """Change detection is then off for it: a digest would claim records it no longer has."""
    assert isinstance(_Forgetful(), ForgetsRecords)
    assert not keeps_records(_Forgetful())  # type: ignore[arg-type]
    assert keeps_records(object())  # type: ignore[arg-type]
