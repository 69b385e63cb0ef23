"""The mapping compiler: a spec's `mapping` block becomes one fast callable per sync, built once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from engine.errors import SpecIssue
from engine.plugins import Registry
from engine.spec.validate import suggest
from engine.transforms.base import OMIT, Transform, TransformContext, TransformError

Getter = Callable[[Mapping[str, Any]], Any]


class FieldError(Exception):
    """A field could not be produced; the row is rejected naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CompiledMapping:
    """Applies every field's getter; fields that end empty are left out of the payload."""

    def __init__(self, fields: list[tuple[str, Getter]], columns: frozenset[str]) -> None:
        self._fields = fields
        self.columns = columns  # source columns the mapping reads

    @property
    def targets(self) -> list[str]:
        return [name for name, _ in self._fields]

    def apply(self, values: Mapping[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for name, getter in self._fields:
            try:
                value = getter(values)
            except TransformError as exc:
                raise FieldError(name, str(exc)) from None
            if value is None or value == "" or value is OMIT:
                continue
            payload[name] = value
        return payload


def compile_mapping(
    mapping: Mapping[str, Any], registry: Registry, context: TransformContext
) -> CompiledMapping:
    fields: list[tuple[str, Getter]] = []
    columns: set[str] = set()
    for target, definition in mapping.items():
        if isinstance(definition, str):
            definition = {"from": definition}
        getter = _source_getter(definition, columns)
        chain = [_build_call(call, registry, context) for call in definition.get("transforms", [])]
        fields.append((target, _chained(getter, chain) if chain else getter))
    return CompiledMapping(fields, frozenset(columns))


def check_mapping(mapping: Mapping[str, Any], registry: Registry) -> list[SpecIssue]:
    """Transform names and arguments, checked before anything runs."""
    issues: list[SpecIssue] = []
    for target, definition in mapping.items():
        if isinstance(definition, str):
            continue
        if "from" not in definition and "const" not in definition:
            issues.append(SpecIssue((target,), "needs 'from' (a source column) or 'const'"))
        for i, call in enumerate(definition.get("transforms", [])):
            path = (target, "transforms", i)
            issues.extend(_check_call(call, registry, path))
    return issues


def _check_call(call: Any, registry: Registry, path: tuple[str | int, ...]) -> list[SpecIssue]:
    name, args = _split_call(call)
    spec = registry.transforms.get(name)
    if spec is None:
        known = sorted(registry.transforms)
        return [SpecIssue(path, f"unknown transform '{name}'{suggest(name, known)}")]
    if spec.takes_args and args is None and isinstance(call, str):
        return [SpecIssue(path, f"transform '{name}' needs arguments, e.g. {spec.example}")]
    issues = []
    for error in Draft202012Validator(spec.args_schema).iter_errors(args):
        where = (*path, name, *error.absolute_path) if isinstance(call, dict) else path
        issues.append(SpecIssue(where, f"bad arguments for '{name}': {error.message}"))
    return issues


def _split_call(call: Any) -> tuple[str, Any]:
    if isinstance(call, str):
        return call, None
    ((name, args),) = call.items()
    return name, args


def _build_call(call: Any, registry: Registry, context: TransformContext) -> Transform:
    name, args = _split_call(call)
    transform: Transform = registry.transforms[name].build(args, context)
    return transform


def _source_getter(definition: Mapping[str, Any], columns: set[str]) -> Getter:
    if "from" in definition:
        column = definition["from"]
        columns.add(column)
        return lambda values: values.get(column)
    constant = definition.get("const")
    return lambda _values: constant


def _chained(getter: Getter, chain: list[Transform]) -> Getter:
    def run(values: Mapping[str, Any]) -> Any:
        value = getter(values)
        for transform in chain:
            value = transform(value)
        return value

    return run
