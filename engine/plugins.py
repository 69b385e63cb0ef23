"""Entry-point discovery. Built-in connectors register exactly as a third-party package would.

Groups: omnisync.sources, omnisync.destinations, omnisync.transforms, omnisync.state. An entry
point names one plugin object, or a mapping of name -> plugin (a bundle, like the built-in transforms).
A plugin that fails to import is skipped with a warning rather than breaking every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import structlog

GROUPS = {
    "sources": "omnisync.sources",
    "destinations": "omnisync.destinations",
    "transforms": "omnisync.transforms",
    "state": "omnisync.state",
}

log = structlog.get_logger("omnisync.plugins")


@dataclass
class Registry:
    sources: dict[str, Any] = field(default_factory=dict)
    destinations: dict[str, Any] = field(default_factory=dict)
    transforms: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> dist
    broken: list[str] = field(default_factory=list)

    def kind(self, kind: str) -> dict[str, Any]:
        table: dict[str, Any] = getattr(self, kind)
        return table


@cache
def load_registry() -> Registry:
    registry = Registry()
    for kind, group in GROUPS.items():
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            _register(registry, kind, ep)
    return registry


def _register(registry: Registry, kind: str, ep: EntryPoint) -> None:
    try:
        loaded = ep.load()
    except Exception as exc:  # a broken third-party plugin must not break the tool
        registry.broken.append(f"{ep.group}:{ep.name} ({ep.value}): {exc}")
        log.warning("plugin_failed_to_load", group=ep.group, name=ep.name, error=str(exc))
        return
    origin = ep.dist.name if ep.dist is not None else "?"
    items = loaded.items() if isinstance(loaded, Mapping) else [(ep.name, loaded)]
    table = registry.kind(kind)
    for name, plugin in items:
        table[name] = plugin
        registry.origins[(kind, name)] = origin
