"""What every compiled keyword shares: JSON types, jsonschema's equality, `and`, giving up."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

Predicate = Callable[[Any], bool]


class Unsupported(Exception):
    """The schema uses a keyword (or a reference) this compiler does not handle."""


class FormatChecker(Protocol):
    """What `format` needs; jsonschema's FormatChecker has it (and `checkers`, used when present)."""

    def conforms(self, instance: object, format: str) -> bool: ...


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


DRAFT_2020_12_TYPES: Mapping[str, Predicate] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": _is_number,
    "integer": _is_integer,
}
CLASSES: Mapping[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "null": type(None),
    "object": dict,
    "array": list,
}


def always(_v: Any) -> bool:
    return True


def is_string(v: Any) -> bool:
    return isinstance(v, str)


def all_true(checks: list[Predicate]) -> Predicate:
    if not checks:
        return always
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


def equal(one: Any, two: Any) -> bool:
    """jsonschema's equality (`jsonschema._utils.equal`): 1 == 1.0, but True != 1, recursively."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and equal(value, two[key]) for key, value in one.items()
        )
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # `one is two` already matched the same bool
    return bool(one == two)
