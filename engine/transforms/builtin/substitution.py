"""Transforms that substitute one value for another: default, required, empty, map.

`default`, `required` and `empty` are the only built-ins that act on None; they share one idea of
"empty" (`engine.transforms.base.is_empty`: None, blank text, empty list or mapping).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from engine.transforms.base import (
    NO_ARGS_SCHEMA,
    OMIT,
    Transform,
    TransformContext,
    TransformDef,
    TransformError,
    is_empty,
)
from engine.transforms.builtin._common import describe, schema


def _build_default(args: Any, _ctx: TransformContext) -> Transform:
    fallback = args

    def default(value: Any) -> Any:
        return fallback if is_empty(value) else value

    return default


def _build_required(_args: None, _ctx: TransformContext) -> Transform:
    def required(value: Any) -> Any:
        if is_empty(value):
            raise TransformError("a value is required but it is empty")
        return value

    return required


def _build_empty(args: str | None, _ctx: TransformContext) -> Transform:
    replacement = {"omit": OMIT, "none": "none"}.get(args or "")  # null and bare: None

    def empty(value: Any) -> Any:
        return replacement if is_empty(value) else value

    return empty


_LONG_FORM_KEYS = frozenset({"values", "fallback", "ignore_case"})
_POLICIES = ("keep", "null", "reject")


def _split_map_args(args: Mapping[Any, Any]) -> tuple[Mapping[Any, Any], Any, bool]:
    """(values, fallback, ignore_case) from either the long or the short form."""
    if "values" in args and isinstance(args["values"], Mapping) and set(args) <= _LONG_FORM_KEYS:
        fallback = args.get("fallback", "reject")
        return args["values"], fallback, bool(args.get("ignore_case", False))
    return args, "reject", False


def _lookup_table(values: Mapping[Any, Any], ignore_case: bool) -> dict[Hashable, Any]:
    """Keys as written, plus the text form of number keys (YAML `1: male` must match CSV "1")."""
    table: dict[Hashable, Any] = {}
    for key, output in values.items():
        if isinstance(key, str) and ignore_case:
            key = key.casefold()
        table[key] = output
        if isinstance(key, int) and not isinstance(key, bool):
            table.setdefault(str(key), output)
    return table


def _build_map(args: Mapping[Any, Any], _ctx: TransformContext) -> Transform:
    values, fallback, ignore_case = _split_map_args(args)
    table = _lookup_table(values, ignore_case)
    get = table.get
    missing = object()
    keep = fallback == "keep"
    reject = fallback == "reject"
    if isinstance(fallback, Mapping):
        literal = fallback["value"]
    else:
        literal = None if fallback in _POLICIES else fallback

    def map_value(value: Any) -> Any:
        if value is None:
            return None
        key = value.casefold() if ignore_case and value.__class__ is str else value
        try:
            found = get(key, missing)
        except TypeError:
            raise TransformError(f"map: cannot look up a {type(value).__name__}") from None
        if found is not missing:
            return found
        if keep:
            return value
        if reject:
            raise TransformError(f"map: no mapping for {describe(value)}")
        return literal

    return map_value


_MAP_LONG_FORM = {
    "type": "object",
    "properties": {
        "values": {"type": "object", "minProperties": 1},
        "fallback": {
            "anyOf": [
                {"enum": list(_POLICIES)},
                {
                    "type": "object",
                    "properties": {"value": True},
                    "required": ["value"],
                    "additionalProperties": False,
                },
                {"not": {"type": "object"}},
            ]
        },
        "ignore_case": {"type": "boolean"},
    },
    "required": ["values"],
    "additionalProperties": False,
}

DEFINITIONS = [
    TransformDef(
        name="default",
        args_schema=schema({"not": {"type": "null"}}),
        build=_build_default,
        summary="Use this value when the input is empty (None, blank text, empty list).",
        example="{default: unknown}",
        example_input="  ",
        example_output="unknown",
    ),
    TransformDef(
        name="required",
        args_schema=NO_ARGS_SCHEMA,
        build=_build_required,
        summary="Reject the row when the value is empty (None, blank text, empty list).",
        example="required",
        example_input="M0001",
        example_output="M0001",
        takes_args=False,
    ),
    TransformDef(
        name="empty",
        args_schema=schema({"enum": ["omit", "null", "none", None]}),
        build=_build_empty,
        summary=(
            "Turn an empty value (None, blank text, empty list) into `omit` (leave the field out "
            "of the record), `null` (send null: clears the value) or `none` (send the text "
            '"none", which clears a value even under ignore_empty_value: true).'
        ),
        example="{empty: omit}",
        example_input="",
        example_output=OMIT,
    ),
    TransformDef(
        name="map",
        args_schema=schema(
            {
                "type": "object",
                "minProperties": 1,
                "if": {"required": ["values"], "properties": {"values": {"type": "object"}}},
                "then": _MAP_LONG_FORM,
            }
        ),
        build=_build_map,
        summary=(
            "Replace a value through a table. Long form `{values: {...}, fallback: ..., "
            "ignore_case: bool}`; short form `{M: male}` (a table with no `values` key). "
            "`fallback`: `reject` (default), `keep`, `null`, or a literal (`{value: keep}` for "
            "the literal text keep)."
        ),
        example="{map: {values: {男: male, 女: female, M: male, F: female}, fallback: null}}",
        example_input="女",
        example_output="female",
    ),
]
