"""Entry-point discovery. Built-in connectors register exactly as a third-party package would.

Groups: omnisync.sources, omnisync.destinations, omnisync.transforms, omnisync.state. An entry
point names one plugin object, or a mapping of name -> plugin (a bundle, like the built-in transforms).
A plugin that fails to import is skipped with a warning rather than breaking every run. What each
kind of plugin implements is declared in engine.contracts (docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Literal

from engine import logging as omnilog
from engine.contracts import Destination, Source, StateStore, TransformDef
from engine.plugins.entry_points import EntryPoint
from engine.plugins.entry_points import entry_points as installed_entry_points

# entry_points imported under another name: `engine.plugins.entry_points` stays the module

Kind = Literal["sources", "destinations", "transforms", "state"]

GROUPS: Final[dict[Kind, str]] = {
    "sources": "omnisync.sources",
    "destinations": "omnisync.destinations",
    "transforms": "omnisync.transforms",
    "state": "omnisync.state",
}

log = omnilog.get_logger("omnisync.plugins")


@dataclass
class Registry:
    """The installed plugins by kind and name; the classes, not instances (a spec builds those)."""

    sources: dict[str, type[Source]] = field(default_factory=dict)
    destinations: dict[str, type[Destination]] = field(default_factory=dict)
    transforms: dict[str, TransformDef] = field(default_factory=dict)
    state: dict[str, type[StateStore]] = field(default_factory=dict)
    origins: dict[tuple[Kind, str], str] = field(default_factory=dict)  # (kind, name) -> dist
    broken: list[str] = field(default_factory=list)

    def kind(self, kind: Kind) -> dict[str, Any]:
        """One kind's table, for code that treats every kind alike (discovery, listing)."""
        tables: dict[Kind, dict[str, Any]] = {
            "sources": self.sources,
            "destinations": self.destinations,
            "transforms": self.transforms,
            "state": self.state,
        }
        return tables[kind]


@cache
def load_registry() -> Registry:
    registry = Registry()
    installed = installed_entry_points(
        GROUPS.values()
    )  # one pass over the distributions, not one per group
    for kind, group in GROUPS.items():
        for ep in sorted((ep for ep in installed if ep.group == group), key=lambda e: e.name):
            _register(registry, kind, ep)
    return registry


def _register(registry: Registry, kind: Kind, ep: EntryPoint) -> None:
    try:
        loaded = ep.load()
    except Exception as exc:  # a broken third-party plugin must not break the tool
        registry.broken.append(f"{ep.group}:{ep.name} ({ep.value}): {exc}")
        log.warning("plugin_failed_to_load", group=ep.group, name=ep.name, error=str(exc))
        return
    origin = ep.dist
    items = loaded.items() if isinstance(loaded, Mapping) else [(ep.name, loaded)]
    table = registry.kind(kind)
    for name, plugin in items:
        table[name] = plugin
        registry.origins[(kind, name)] = origin
