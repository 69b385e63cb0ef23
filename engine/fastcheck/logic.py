"""Keywords that combine subschemas: anyOf, oneOf, allOf, not, if/then/else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.fastcheck.predicates import Predicate, all_true, always

if TYPE_CHECKING:
    from engine.fastcheck.compiler import Compiler


def any_of(compiler: Compiler, schemas: list[Any], _schema: Mapping[str, Any]) -> Predicate:
    options = tuple(compiler.compile(s) for s in schemas)

    def some(v: Any) -> bool:
        for option in options:  # noqa: SIM110 - faster than any() over a generator
            if option(v):
                return True
        return False

    return some


def one_of(compiler: Compiler, schemas: list[Any], _schema: Mapping[str, Any]) -> Predicate:
    options = tuple(compiler.compile(s) for s in schemas)
    return lambda v: sum(1 for option in options if option(v)) == 1


def all_of(compiler: Compiler, schemas: list[Any], _schema: Mapping[str, Any]) -> Predicate:
    return all_true([compiler.compile(s) for s in schemas])


def not_(compiler: Compiler, value: Any, _schema: Mapping[str, Any]) -> Predicate:
    test = compiler.compile(value)
    return lambda v: not test(v)


def if_(compiler: Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    condition = compiler.compile(value)
    then = compiler.compile(schema["then"]) if "then" in schema else None
    otherwise = compiler.compile(schema["else"]) if "else" in schema else None
    if then is None and otherwise is None:
        return always  # the outcome of `if` alone asserts nothing
    if otherwise is None:
        assert then is not None
        return lambda v: not condition(v) or then(v)
    if then is None:
        return lambda v: condition(v) or otherwise(v)
    return lambda v: then(v) if condition(v) else otherwise(v)
