"""The spec's JSON Schema: the base file plus what the installed plugins contribute."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from engine.contracts import sync_rules
from engine.plugins import Registry


@cache
def base_schema() -> dict[str, Any]:
    path = Path(__file__).with_name("omnisync.schema.json")
    if path.is_file():  # a package on disk: importlib.resources would cost more than validate
        text = path.read_text("utf-8")
    else:  # a zipped install
        from importlib import resources

        text = resources.files("engine.specfile").joinpath(path.name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def compose_schema(registry: Registry) -> dict[str, Any]:
    """Insert each source's block schema, each destination's connection and sync block."""
    schema = copy.deepcopy(base_schema())
    defs = schema["$defs"]
    defs["source"]["properties"] = {
        name: {"$ref": f"#/$defs/sources/{name}"} for name in sorted(registry.sources)
    }
    defs["sources"] = {name: cls.config_schema for name, cls in registry.sources.items()}
    defs["destinations"] = {}
    for name, cls in sorted(registry.destinations.items()):
        defs["destinations"][name] = cls.sync_schema
        schema["properties"][name] = cls.connection_schema
    defs["destination"] = _destination_choice(sorted(registry.destinations))
    if registry.state:
        defs["state"] = _state_choice(registry.state)
    return schema


def _state_choice(backends: dict[str, Any], default: str = "sqlite") -> dict[str, Any]:
    """`backend:` names an installed state backend (sqlite when left out); its options sit beside it."""
    names = sorted(backends)
    choice: dict[str, Any] = {
        "type": "object",
        "properties": {"backend": {"enum": names, "description": f"default {default}"}},
        "allOf": [],
    }
    for name in names:
        own = backends[name].config_schema
        block = {
            **own,
            "properties": {"backend": {}, **own.get("properties", {})},
            "additionalProperties": False,
        }
        chosen: dict[str, Any] = {
            "required": ["backend"],
            "properties": {"backend": {"const": name}},
        }
        if name == default:
            chosen = {"anyOf": [chosen, {"not": {"required": ["backend"]}}]}
        choice["allOf"].append({"if": chosen, "then": block})
    return choice


def _destination_choice(names: list[str]) -> dict[str, Any]:
    """With one destination installed, its block is the destination; with several, `type` picks."""
    if len(names) == 1:
        return {"$ref": f"#/$defs/destinations/{names[0]}"}
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": names}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}},
                "then": {"$ref": f"#/$defs/destinations/{name}"},
            }
            for name in names
        ],
    }


def sync_rules_schema(registry: Registry) -> dict[str, Any] | None:
    """The destinations' rules over each sync, as a schema of the whole spec; None without any."""
    rules = [rule for cls in registry.destinations.values() for rule in sync_rules(cls)]
    if not rules:
        return None
    return {"type": "object", "properties": {"syncs": {"type": "array", "items": {"allOf": rules}}}}
