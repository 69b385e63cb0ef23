"""What a sync block may say, per endpoint, as JSON Schema `if endpoint is X then ...` rules.

The spec checks (destination.py) explain a wrong option or field in their own words; these rules
carry the same knowledge to places without our checks: the editor schema (an editor completes the
options and the mapping keys of the sync's endpoint, with the reference's descriptions, and flags
`merge_key: member_id` or a misspelt `valid_util` as they are typed), and the reading of a whole
`${VAR}` as the boolean or number an option wants.
"""

from __future__ import annotations

from typing import Any

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.endpoint_def import EndpointDef
from connectors.omnisegment.record_schema import data_schema
from connectors.omnisegment.reference_notes import FIELDS, OPTIONS

_KINDS = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true/false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def sync_rules() -> list[dict[str, Any]]:
    """One rule per endpoint, applied to a sync."""
    return [_rule(definition) for definition in CATALOGUE.values()]


def _rule(definition: EndpointDef) -> dict[str, Any]:
    record = data_schema(definition.schema)
    required = set(record.get("required", ()))
    fields = {
        name: {"description": _field_text(definition, name, prop, name in required)}
        for name, prop in record.get("properties", {}).items()
    }
    mapping: dict[str, Any] = {"properties": fields}
    then: dict[str, Any] = {
        "properties": {
            "destination": {"properties": {"options": _options(definition)}},
            "mapping": mapping,
            "delivery": {"properties": {"batch_size": {"maximum": _largest_cap(definition)}}},
        }
    }
    if record.get("additionalProperties") is False:
        mapping["additionalProperties"] = False
    else:  # open records take custom fields, but only those listed in custom_fields
        then["if"] = {
            "required": ["destination"],
            "properties": {"destination": {"required": ["custom_fields"]}},
        }
        closed = {"properties": dict.fromkeys(fields, True), "additionalProperties": False}
        then["else"] = {"properties": {"mapping": closed}}
    return {
        "if": {
            "required": ["destination"],
            "properties": {
                "destination": {
                    "required": ["endpoint"],
                    "properties": {"endpoint": {"const": definition.name}},
                }
            },
        },
        "then": then,
    }


def _field_text(definition: EndpointDef, name: str, prop: Any, required: bool) -> str:
    kinds = prop.get("type") if isinstance(prop, dict) else None
    kind_list = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    kind = " or ".join(_KINDS.get(str(k), str(k)) for k in kind_list) or "a value"
    parts = [f"{definition.name} field, {kind}{', required' if required else ''}."]
    for note in (FIELDS.get(definition.name, {}).get(name), _own(prop)):
        if note:
            parts.append(note)
    parts.append(f"({definition.doc})")
    return " ".join(parts)


def _own(prop: Any) -> str | None:
    return prop.get("description") if isinstance(prop, dict) else None


def _options(definition: EndpointDef) -> dict[str, Any]:
    """Every option of every route; one only some routes take says which (`mode:`)."""
    by_key: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for mode, route in definition.routes.items():
        for key, schema in route.options.get("properties", {}).items():
            by_key.setdefault(key, []).append((mode, dict(schema)))
    properties = {}
    for key, entries in by_key.items():
        schemas = []
        for _mode, schema in entries:
            if schema not in schemas:
                schemas.append(schema)
        merged = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        text = OPTIONS.get(key) or schemas[0].get("description") or key
        modes = [mode for mode, _schema in entries]
        if len(modes) < len(definition.routes):
            text += f" (only with mode: {' or '.join(modes)})"
        properties[key] = {**merged, "description": text}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _largest_cap(definition: EndpointDef) -> int:
    return max(route.cap for route in definition.routes.values())
