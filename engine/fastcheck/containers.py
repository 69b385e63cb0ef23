"""Keywords about objects and arrays: properties, required, items, sizes, unique items."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.fastcheck.predicates import Predicate, Unsupported, always, equal, is_string

if TYPE_CHECKING:
    from engine.fastcheck.compiler import Compiler


def min_items(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, list) or len(v) >= limit


def max_items(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, list) or len(v) <= limit


def min_properties(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, dict) or len(v) >= limit


def max_properties(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, dict) or len(v) <= limit


def unique_items(_compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    if not isinstance(value, bool):
        raise Unsupported(f"uniqueItems {value!r}")
    if not value:
        return always

    def unique(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        return not any(equal(a, b) for i, a in enumerate(v) for b in v[i + 1 :])

    return unique


def required(_compiler: Compiler, names: list[str], _schema: Mapping[str, Any]) -> Predicate:
    wanted = frozenset(names)
    return lambda v: not isinstance(v, dict) or wanted.issubset(v.keys())


def dependent_required(
    _compiler: Compiler, value: Mapping[str, list[str]], _schema: Mapping[str, Any]
) -> Predicate:
    pairs = tuple((key, frozenset(needed)) for key, needed in value.items())

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, needed in pairs:  # noqa: SIM110 - a loop beats all() on the hot path
            if key in v and not needed.issubset(v.keys()):
                return False
        return True

    return check


def properties(
    compiler: Compiler, schemas: Mapping[str, Any], schema: Mapping[str, Any]
) -> Predicate:
    """`properties` and `additionalProperties` in one pass over the record's keys."""
    # Plain {"type": "string"} properties (most of them) are tested inline, without a call.
    plain = compiler.plain_strings
    strings = frozenset(n for n, s in schemas.items() if plain and s == {"type": "string"})
    compiled = {
        name: compiler.compile_child(s) for name, s in schemas.items() if name not in strings
    }
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else compiler.compile_child(extra)
    for name in strings:
        compiled[name] = is_string  # marks a plain string property for the loop below

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name, value in v.items():
            test = compiled.get(name)
            if test is is_string:
                if not isinstance(value, str):
                    return False
            elif test is not None:
                if not test(value):
                    return False
            elif other is not None and not other(value):
                return False
        return True

    return check


def additional_properties(compiler: Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if "properties" in schema:
        return always  # checked by `properties`, in the same pass
    if value is False:
        return lambda v: not isinstance(v, dict) or not v
    test = compiler.compile_child(value)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for item in v.values():  # noqa: SIM110 - a loop beats all() on the hot path
            if not test(item):
                return False
        return True

    return check


def property_names(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    test = compiler.compile_child(value)
    return lambda v: not isinstance(v, dict) or all(test(name) for name in v)


def items(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    test = compiler.compile_child(value)

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        for item in v:  # noqa: SIM110 - a loop beats all() on the hot path
            if not test(item):
                return False
        return True

    return check
