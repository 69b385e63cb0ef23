"""Keywords about one value: type, enum, const, pattern, format, string length, number bounds."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.fastcheck.predicates import CLASSES, Predicate, Unsupported, always, equal

if TYPE_CHECKING:
    from engine.fastcheck.compiler import Compiler


def type_(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    if any(name not in compiler.types for name in names):
        raise Unsupported(f"type {value!r}")
    # Types that are a Python class are tested by one isinstance, unless redefined.
    redefined = compiler.redefined
    classes = tuple(CLASSES[n] for n in names if n in CLASSES and n not in redefined)
    tests = tuple(compiler.types[n] for n in names if n not in CLASSES or n in redefined)
    if not tests:
        return lambda v: isinstance(v, classes)
    if not classes and len(tests) == 1:
        return tests[0]

    def some(v: Any) -> bool:
        if isinstance(v, classes):
            return True
        for test in tests:  # noqa: SIM110 - a loop beats any() over a generator
            if test(v):
                return True
        return False

    return some


def enum(_compiler: Compiler, values: Any, _schema: Mapping[str, Any]) -> Predicate:
    if not isinstance(values, list):
        raise Unsupported("enum that is not a list")
    if all(isinstance(x, str) or x is None for x in values):
        # Strings equal only strings, None only None: a set lookup is exact here.
        allowed = frozenset(values)
        return lambda v: (v is None or isinstance(v, str)) and v in allowed
    frozen = tuple(values)
    return lambda v: any(equal(each, v) for each in frozen)


def const(_compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    if isinstance(value, str):
        return lambda v: isinstance(v, str) and v == value
    return lambda v: equal(v, value)


def pattern(_compiler: Compiler, value: str, _schema: Mapping[str, Any]) -> Predicate:
    search = re.compile(value).search  # jsonschema uses re.search: unanchored
    return lambda v: not isinstance(v, str) or search(v) is not None


def format_(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    checker = compiler.format_checker
    if checker is None:
        return always
    known = getattr(checker, "checkers", None)
    if not isinstance(known, Mapping):
        return lambda v: checker.conforms(v, value)
    if value not in known:
        return always  # an unknown format passes
    func, raises = known[value]

    def conforms(v: Any) -> bool:  # FormatChecker.check without building the error
        try:
            return bool(func(v))
        except raises:
            return False

    return conforms


def min_length(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, str) or len(v) >= limit


def max_length(_compiler: Compiler, limit: int, _schema: Mapping[str, Any]) -> Predicate:
    return lambda v: not isinstance(v, str) or len(v) <= limit


_BOUNDS: Mapping[str, Callable[[Any, Any], bool]] = {  # (instance, limit) -> out of bounds
    "minimum": operator.lt,
    "exclusiveMinimum": operator.le,
    "maximum": operator.gt,
    "exclusiveMaximum": operator.ge,
}


def bound(keyword: str) -> Callable[[Compiler, Any, Mapping[str, Any]], Predicate]:
    """minimum, maximum and their exclusive forms: they test what the type checker calls a number."""
    outside = _BOUNDS[keyword]

    def build(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unsupported(f"{keyword} {value!r}")
        number = compiler.types["number"]
        return lambda v: not number(v) or not outside(v, value)

    return build
