"""The schema an editor checks a spec with (`omnisync schema`, schema/omnisync.schema.json).

The loader checks values after ${VAR} interpolation; an editor sees the text before it. So the
published schema accepts a `${VAR}` string wherever a number, a boolean or a constrained string
(an enum, a pattern) is expected, and it names every installed transform with its arguments so an
editor completes and checks `transforms:` too.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.contracts import sync_rules
from engine.fastcheck import is_valid
from engine.plugins import Registry
from engine.specfile.schema import compose_schema

ENV_REFERENCE = {
    "type": "string",
    "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$",
    "description": "A value from the environment: ${VAR} or ${VAR:-default}",
}
_FROM_ENV = {"$ref": "#/$defs/env_reference"}
_SCALARS = frozenset({"integer", "number", "boolean"})


def editor_schema(registry: Registry) -> dict[str, Any]:
    """compose_schema, plus the transforms' names and arguments, plus ${VAR} where it may stand."""
    schema = copy.deepcopy(compose_schema(registry))
    schema["$defs"]["transform_call"] = _transform_call(registry)
    rules = [rule for cls in registry.destinations.values() for rule in sync_rules(cls)]
    if rules:  # per endpoint: its options and mapping keys, completed and checked
        schema["$defs"]["sync"].setdefault("allOf", []).extend(rules)
    published: dict[str, Any] = _accept_references(schema)
    published["$defs"]["env_reference"] = ENV_REFERENCE
    return published


def _transform_call(registry: Registry) -> dict[str, Any]:
    names = sorted(registry.transforms)
    bare = [n for n in names if is_valid(registry.transforms[n].args_schema, None)]
    return {
        "description": "A transform name, or a one-key object {name: arguments}.",
        "oneOf": [
            {"enum": bare, "description": "A transform that needs no arguments."},
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    n: {
                        **registry.transforms[n].args_schema,
                        "description": registry.transforms[n].summary,
                    }
                    for n in names
                },
                "additionalProperties": False,
            },
        ],
    }


_SCHEMA_MAPS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE = frozenset(
    {"items", "additionalProperties", "not", "then", "else", "contains", "unevaluatedProperties"}
)


def _accept_references(node: Any, wrap: bool = True) -> Any:
    """Every subschema that refuses a plain string (numbers, booleans, enums, patterns, consts)
    also accepts a ${VAR} reference. `if` conditions are left as they are: they pick a branch.
    The branches of a oneOf are not wrapped one by one (a reference would match several): the
    oneOf as a whole accepts the reference."""
    if not isinstance(node, dict):
        return node
    walked: dict[str, Any] = {}
    scalar_branch = False
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            walked[key] = {name: _accept_references(sub) for name, sub in value.items()}
        elif key == "oneOf" and isinstance(value, list):
            walked[key] = [_accept_references(sub, wrap=False) for sub in value]
            scalar_branch = any(isinstance(b, dict) and _constrains_scalar(b) for b in value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            walked[key] = [_accept_references(sub) for sub in value]
        elif key in _SCHEMA_ONE:
            walked[key] = _accept_references(value)
        else:
            walked[key] = value
    if wrap and (scalar_branch or _constrains_scalar(node)):
        return {"anyOf": [walked, _FROM_ENV]}
    return walked


def _constrains_scalar(node: dict[str, Any]) -> bool:
    kinds = node.get("type")
    types = set(kinds) if isinstance(kinds, list) else {kinds}
    if types & _SCALARS:
        return True
    if "string" in types and ({"enum", "pattern", "const", "format"} & set(node)):
        return True
    return kinds is None and ("enum" in node or "const" in node)
