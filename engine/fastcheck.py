"""A JSON Schema subset compiled to plain Python predicates: the per-record check on the hot path.

jsonschema's `is_valid` costs ~120 µs per small record (it walks its keyword tables every time);
a compiled predicate costs a few µs. Only keywords whose meaning is unambiguous are compiled; a
schema using anything else is not compiled (`compile_schema` returns None) and the caller keeps
jsonschema. A failing record is always explained by jsonschema itself, so messages do not change.
Equivalence with jsonschema is property-tested (tests/unit/test_fastcheck.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)
_TYPES: dict[str, Predicate] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


class _Unsupported(Exception):
    """The schema uses a keyword this compiler does not handle."""


def compile_schema(schema: Mapping[str, Any] | bool) -> Predicate | None:
    """A predicate equivalent to `Draft202012Validator(schema).is_valid`, or None."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _compile(schema: Mapping[str, Any] | bool) -> Predicate:
    if schema is True:
        return lambda _v: True
    if schema is False:
        return lambda _v: False
    if not isinstance(schema, Mapping):
        raise _Unsupported(repr(schema))
    checks: list[Predicate] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        builder = _KEYWORDS.get(keyword)
        if builder is None:
            raise _Unsupported(keyword)
        if keyword == "additionalProperties":
            checks.append(_additional(value, schema.get("properties", {})))
        else:
            checks.append(builder(value))
    return _all(checks)


def _all(checks: list[Predicate]) -> Predicate:
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    frozen = tuple(checks)

    def every(v: Any) -> bool:
        for check in frozen:  # noqa: SIM110 - a loop beats all() over a generator on the hot path
            if not check(v):
                return False
        return True

    return every


def _type(value: Any) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    if any(name not in _TYPES for name in names):
        raise _Unsupported(f"type {value!r}")
    if names == ["string"]:
        return lambda v: isinstance(v, str)
    tests = [_TYPES[name] for name in names]
    return lambda v: any(test(v) for test in tests)


def _enum(values: Any) -> Predicate:
    # jsonschema tells 1 from True and 1.0 from True; plain `in` does not: compile strings only.
    if not isinstance(values, list) or not all(isinstance(x, str) or x is None for x in values):
        raise _Unsupported("enum of non-strings")
    allowed = frozenset(values)
    return lambda v: (v is None or isinstance(v, str)) and v in allowed


def _const(value: Any) -> Predicate:
    if not isinstance(value, str):
        raise _Unsupported("const of a non-string")
    return lambda v: isinstance(v, str) and v == value


def _pattern(value: str) -> Predicate:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _min_length(limit: int) -> Predicate:
    return lambda v: not isinstance(v, str) or len(v) >= limit


def _max_length(limit: int) -> Predicate:
    return lambda v: not isinstance(v, str) or len(v) <= limit


def _required(names: list[str]) -> Predicate:
    wanted = frozenset(names)
    return lambda v: not isinstance(v, dict) or wanted.issubset(v.keys())


def _any_of(schemas: list[Any]) -> Predicate:
    options = tuple(_compile(s) for s in schemas)

    def some(v: Any) -> bool:
        for option in options:  # noqa: SIM110 - likewise, faster than any() over a generator
            if option(v):
                return True
        return False

    return some


def _all_of(schemas: list[Any]) -> Predicate:
    return _all([_compile(s) for s in schemas])


def _properties(schemas: Mapping[str, Any]) -> Predicate:
    # Plain {"type": "string"} properties (most of them) are tested inline, without a call.
    strings = frozenset(name for name, s in schemas.items() if s == {"type": "string"})
    compiled = {name: _compile(s) for name, s in schemas.items() if name not in strings}

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name, value in v.items():
            if name in strings:
                if not isinstance(value, str):
                    return False
                continue
            test = compiled.get(name)
            if test is not None and not test(value):
                return False
        return True

    return check


def _additional(value: Any, properties: Mapping[str, Any]) -> Predicate:
    known = frozenset(properties)
    test = _compile(value)
    return lambda v: (
        not isinstance(v, dict) or all(test(item) for name, item in v.items() if name not in known)
    )


def _items(value: Any) -> Predicate:
    test = _compile(value)
    return lambda v: not isinstance(v, list) or all(test(item) for item in v)


_KEYWORDS: dict[str, Callable[[Any], Predicate]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "required": _required,
    "anyOf": _any_of,
    "allOf": _all_of,
    "properties": _properties,
    "additionalProperties": lambda _v: _all([]),  # built by _compile with its properties
    "items": _items,
}
