"""A failed record check in the user's words: what was wrong with a field, and how to fix it.

The field travels separately (the reject file's `field`), so reasons do not repeat it. A value of
the wrong type names the transform that produces the right one; a pattern is explained by its
schema description, never printed as a regular expression; a missing field the record holds under
a near-miss name says so (a name the schema knows is never taken for a misspelling: a missing
event_value is missing, not event_action misspelt); a value that could also clear the field is
explained by the value's own rule, not by the clearing one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}
_FIXES = {  # the transform that turns source values into the wanted JSON type
    "integer": "map it with `number: {output: int}`",
    "number": "map it with the `number` transform",
    "boolean": "map it with `cast: bool`",
    "string": "map it with `cast: str`",
    "array": "map it with `split`",
}
_CLEAR = ["", "none", None]


def explain(
    errors: Iterable[ValidationError], known: Collection[str] = ()
) -> tuple[str | None, str]:
    """(field, reason) for the most relevant error; the field is a dotted path into the record.
    `known`: the field names the schema defines (property_names), never offered as a near miss."""
    error = _branch(best_match(errors))
    path = [str(p) for p in error.absolute_path]
    return _describe(error, path, ".".join(path) or None, known)


def property_names(schema: Any) -> frozenset[str]:
    """Every field name `schema` defines, at any depth."""
    names: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            properties = node.get("properties")
            if isinstance(properties, Mapping):
                names.update(str(name) for name in properties)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(names)


def _branch(error: ValidationError) -> ValidationError:
    """In an anyOf of a value's rule and the clearing values, the value's rule explains."""
    while error.validator == "anyOf" and error.context and not _required_groups(error):
        branches = [e for e in error.context if not _clearing(e)]
        if not branches:
            break
        error = best_match(branches)
    return error


def _clearing(error: ValidationError) -> bool:
    return error.validator == "enum" and list(error.validator_value) == _CLEAR  # type: ignore[arg-type]


def _required_groups(error: ValidationError) -> bool:
    groups: Any = error.validator_value
    return error.validator == "anyOf" and all(
        isinstance(s, dict) and set(s) == {"required"} for s in groups
    )


def _describe(
    error: ValidationError, path: list[str], field: str | None, known: Collection[str] = ()
) -> tuple[str | None, str]:
    # iter_errors always sets these; the stubs also allow Unset, for errors made by hand
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    kind = error.validator
    if _required_groups(error):
        missing = [r for r in expected[0]["required"] if r not in instance]
        name = (missing or expected[0]["required"])[0]
        wanted = " or ".join(" with ".join(s["required"]) for s in expected)
        near = _near(instance, name, known)
        return ".".join([*path, name]), f"missing required field: {wanted}" + near
    if kind == "required":
        name = next((r for r in expected if r not in instance), "")
        near = _near(instance, name, known)
        return ".".join([*path, name]), f"missing required field '{name}'" + near
    if kind == "dependentRequired":
        present = next(k for k, v in expected.items() if k in instance)
        needed = next(v for v in expected[present] if v not in instance)
        return ".".join(
            [*path, needed]
        ), f"missing required field '{needed}' (given with '{present}')"
    if kind == "additionalProperties" and expected is False:
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(instance) - set(known))[:1] or [""]
        return ".".join([*path, extra[0]]), f"unknown field '{extra[0]}'" + _similar(
            extra[0], known
        )
    if kind in ("enum", "const"):
        allowed = expected if kind == "enum" else [expected]
        return field, f"{instance!r} is not one of {', '.join(map(repr, allowed))}"
    if kind == "type":
        return field, _wrong_type(instance, expected, schema)
    if kind in ("pattern", "format", "not"):
        return field, f"{instance!r} {_expected(schema.get('description'))}"
    if kind in ("maxLength", "minLength", "maxItems", "minItems", "minimum", "maximum"):
        return field, _out_of_bounds(kind, instance, expected)
    return field, error.message


def _expected(description: str | None) -> str:
    if not description:
        return "does not have the expected form"
    if description.split(" ", 1)[0] in ("a", "an"):
        return f"is not {description}"
    return f"is not in the expected form: {description}"


def _wrong_type(instance: Any, wanted: str | list[str], schema: Mapping[str, Any]) -> str:
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    expected = schema.get("description") or " or ".join(_TYPE_NAMES.get(n, n) for n in names)
    got = _TYPE_NAMES.get(_json_type(instance), type(instance).__name__)
    if isinstance(instance, float) and instance.is_integer():
        got = "a number with a decimal point"
    order = ("integer", "number") if isinstance(instance, int | float) else tuple(_FIXES)
    fix = next((_FIXES[n] for n in order if n in names), None)
    reason = f"{instance!r} is {got}, expected {expected}"
    return f"{reason}: {fix}" if fix else reason


def _json_type(value: Any) -> str:
    for name, kind in (("boolean", bool), ("integer", int), ("number", float), ("string", str)):
        if isinstance(value, kind):
            return name
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _out_of_bounds(kind: str, instance: Any, limit: Any) -> str:
    if kind == "maxLength":
        return f"text of {len(instance)} characters, at most {limit} allowed"
    if kind == "minLength":
        return "empty text" if limit == 1 else f"text shorter than {limit} characters"
    if kind == "maxItems":
        return f"{len(instance)} items, at most {limit} allowed"
    if kind == "minItems":
        return "an empty list" if limit == 1 else f"fewer than {limit} items"
    word = "at least" if kind == "minimum" else "at most"
    return f"{instance!r} must be {word} {limit}"


def _similar(name: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _near(instance: Any, missing: str, known: Collection[str] = ()) -> str:
    """' (the record has 'valid_until': a misspelling?)' for a near-miss key the schema does not
    define (a field it defines is there in its own right)."""
    if not isinstance(instance, Mapping):
        return ""
    keys = [k for k in instance if isinstance(k, str) and k not in known]
    match = difflib.get_close_matches(missing, keys, n=1, cutoff=0.6)
    return f" (the record has '{match[0]}': a misspelling?)" if match else ""
