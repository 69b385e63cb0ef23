"""The mapping compiler: a sync's `mapping`, `filter` and `dedupe` become one callable, built once.

Field forms (any of them may add `transforms: [...]` and `on_error: reject | null | omit`):
  column                       a source column, as a bare string
  {from: column}               the same, with options
  {const: value}               a constant
  {template: "{a} {b}"}        text from columns; empty when every column it names is empty
  {coalesce: [a, b]}           the first non-empty column
  {expr: "price * qty"}        a safe expression over the row (engine/transforms/expressions.py)
  {object: {key: field, ...}}  a nested object; empty sub-fields are left out
  {list: [{key: field}, ...]}  a list of objects; objects that end empty are left out
A field whose value ends empty (None, OMIT, text that is empty or only whitespace) is left out of
the record, so a blank cell never clears data and a key of spaces is never sent as a key;
`{empty: null}` sends null, `{empty: none}` sends "none".
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import SpecIssue
from engine.fastcheck import is_valid
from engine.suggest import suggest
from engine.transforms.base import (
    OMIT,
    Transform,
    TransformArgsError,
    TransformContext,
    TransformDef,
    TransformError,
)
from engine.transforms.expressions import ExpressionError, compile_expression

Getter = Callable[[Mapping[str, Any]], Any]
Path = tuple[str | int, ...]
Transforms = Mapping[str, TransformDef]
"""The transforms a mapping may call, by name: the plugin registry's `transforms`."""

SOURCES = ("from", "const", "template", "coalesce", "expr", "object", "list")


class FieldError(Exception):
    """A field could not be produced; the row is rejected naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _Field:
    """One compiled target field."""

    __slots__ = ("getter", "keep_null", "name", "on_error")

    def __init__(self, name: str, getter: Getter, on_error: str, keep_null: bool) -> None:
        self.name = name
        self.getter = getter
        self.on_error = on_error
        self.keep_null = keep_null


def _build_object(fields: list[_Field]) -> Getter:
    """Apply fields in order, leaving out the empty ones; raises FieldError naming the field."""

    def build(values: Mapping[str, Any]) -> Any:
        out: dict[str, Any] = {}
        for field in fields:
            try:
                value = field.getter(values)
            except TransformError as exc:
                if field.on_error == "reject":
                    raise FieldError(field.name, str(exc)) from None
                if field.on_error == "null":
                    out[field.name] = None
                continue
            except FieldError as exc:  # from a nested object: name the whole path
                raise FieldError(f"{field.name}.{exc.field}", exc.reason) from None
            if value is None:
                if field.keep_null:
                    out[field.name] = None
            elif value is not OMIT and not _blank(value):
                out[field.name] = value
        return out or None

    return build


def _blank(value: Any) -> bool:
    """Empty or whitespace-only text: as good as absent (the API trims ids before checking them)."""
    return type(value) is str and (not value or value.isspace())


class CompiledMapping:
    """`apply(row)` -> the record, or None when the sync's filter or de-duplication drops the row."""

    def __init__(
        self,
        build: Getter,
        columns: frozenset[str],
        keep: Callable[[Mapping[str, Any]], bool] | None,
        dedupe_key: str | None,
        fields: list[_Field] | None = None,
    ) -> None:
        self._build = build
        self._fields = fields or []
        self._keep = keep
        self._dedupe_key = dedupe_key
        self._seen: set[int] = set()
        self.columns = columns  # source columns the mapping reads
        self.last_drop_reason = ""

    def apply(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        if self._keep is not None:
            try:
                if not self._keep(values):
                    self.last_drop_reason = "filter"
                    return None
            except TransformError as exc:
                raise FieldError("filter", str(exc)) from None
        payload: dict[str, Any] = self._build(values) or {}
        if self._dedupe_key is not None:
            marker = hash(str(payload.get(self._dedupe_key)))
            if marker in self._seen:
                self.last_drop_reason = "duplicate"
                return None
            self._seen.add(marker)
        return payload

    def partial(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The fields that can be produced, the failing ones left out: for the key of a reject."""
        out: dict[str, Any] = {}
        for field in self._fields:
            try:
                value = field.getter(values)
            except (TransformError, FieldError):
                continue
            if value is not None and value is not OMIT and not _blank(value):
                out[field.name] = value
        return out


def compile_mapping(
    mapping: Mapping[str, Any],
    transforms: Transforms,
    context: TransformContext,
    row_filter: str | None = None,
    dedupe_key: str | None = None,
) -> CompiledMapping:
    """Compile once per sync; `check_mapping` has already refused anything that would fail here."""
    columns: set[str] = set()
    compiler = _Compiler(transforms, context, columns)
    fields = [compiler.field(name, definition) for name, definition in mapping.items()]
    keep = None
    if row_filter:
        evaluator = compile_expression(row_filter)

        def keep(values: Mapping[str, Any]) -> bool:
            return bool(evaluator(values))

    return CompiledMapping(_build_object(fields), frozenset(columns), keep, dedupe_key, fields)


class _Compiler:
    def __init__(
        self, transforms: Transforms, context: TransformContext, columns: set[str]
    ) -> None:
        self.transforms = transforms
        self.context = context
        self.columns = columns

    def field(self, name: str, definition: Any) -> _Field:
        if isinstance(definition, str):
            definition = {"from": definition}
        getter = self.source(definition)
        calls = definition.get("transforms", [])
        chain = [self.transform(call) for call in calls]
        keep_null = any(_split_call(call) == ("empty", "null") for call in calls)
        return _Field(
            name,
            _chained(getter, chain) if chain else getter,
            definition.get("on_error", "reject"),
            keep_null,
        )

    def source(self, definition: Mapping[str, Any]) -> Getter:
        if "from" in definition:
            column = definition["from"]
            self.columns.add(column)
            return lambda values: values.get(column)
        if "const" in definition:
            constant = definition["const"]
            return lambda _values: constant
        if "template" in definition:
            return self.template(definition["template"])
        if "coalesce" in definition:
            return self.coalesce(definition["coalesce"])
        if "expr" in definition:
            return compile_expression(definition["expr"])
        if "object" in definition:
            fields = [self.field(k, v) for k, v in definition["object"].items()]
            return _build_object(fields)
        items = [
            _build_object([self.field(k, v) for k, v in item.items()])
            for item in definition["list"]
        ]
        return lambda values: [obj for build in items if (obj := build(values)) is not None] or None

    def template(self, text: str) -> Getter:
        parts = [(literal, name) for literal, name, _spec, _conv in string.Formatter().parse(text)]
        names = [name for _, name in parts if name]
        self.columns.update(names)

        def render(values: Mapping[str, Any]) -> str | None:
            found = [values.get(name) for name in names]
            if all(v is None or v == "" for v in found):
                return None
            pieces = iter("" if v is None else str(v) for v in found)
            return "".join(
                literal + (next(pieces) if name else "") for literal, name in parts
            ).strip()

        return render

    def coalesce(self, names: list[str]) -> Getter:
        self.columns.update(names)

        def first(values: Mapping[str, Any]) -> Any:
            for name in names:
                value = values.get(name)
                if value is not None and not _blank(value):
                    return value
            return None

        return first

    def transform(self, call: Any) -> Transform:
        name, args = _split_call(call)
        built: Transform = self.transforms[name].build(args, self.context)
        return built


def check_mapping(mapping: Mapping[str, Any], transforms: Transforms) -> list[SpecIssue]:
    """Sources, transform names and arguments, expressions: all checked before anything runs."""
    issues: list[SpecIssue] = []
    for target, definition in mapping.items():
        issues.extend(_check_field((target,), definition, transforms))
    return issues


def check_expression(path: Path, text: str) -> list[SpecIssue]:
    try:
        compile_expression(text)
    except ExpressionError as exc:
        return [SpecIssue(path, f"invalid expression: {exc}")]
    return []


def _check_field(path: Path, definition: Any, transforms: Transforms) -> list[SpecIssue]:
    if isinstance(definition, str):
        return []
    given = [key for key in SOURCES if key in definition]
    if len(given) != 1:
        what = "needs one of" if not given else f"has {', '.join(given)}: choose one of"
        return [SpecIssue(path, f"{what} {', '.join(SOURCES)}")]
    issues: list[SpecIssue] = []
    source = given[0]
    if source == "expr":
        issues += check_expression((*path, "expr"), definition["expr"])
    elif source == "template":
        issues += _check_template((*path, "template"), definition["template"])
    elif source == "object":
        for key, sub in definition["object"].items():
            issues += _check_field((*path, "object", key), sub, transforms)
    elif source == "list":
        for i, item in enumerate(definition["list"]):
            for key, sub in item.items():
                issues += _check_field((*path, "list", i, key), sub, transforms)
    for i, call in enumerate(definition.get("transforms", [])):
        issues += _check_call(call, transforms, (*path, "transforms", i))
    return issues


def _check_template(path: Path, text: str) -> list[SpecIssue]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [SpecIssue(path, f"invalid template: {exc}")]
    for _literal, name, spec, conversion in parsed:
        if name is not None and (not name or spec or conversion):
            return [SpecIssue(path, f"invalid template field {{{name}}}: write {{column}} only")]
    return []


def _check_call(call: Any, transforms: Transforms, path: Path) -> list[SpecIssue]:
    name, args = _split_call(call)
    spec = transforms.get(name)
    if spec is None:
        known = sorted(transforms)
        return [SpecIssue(path, f"unknown transform '{name}'{suggest(name, known)}")]
    if isinstance(call, str) and not is_valid(spec.args_schema, None):
        return [SpecIssue(path, f"transform '{name}' needs arguments, e.g. {spec.example}")]
    where = (*path, name) if isinstance(call, dict) else path
    issues = [] if is_valid(spec.args_schema, args) else _argument_issues(name, spec, args, where)
    if not issues:
        try:
            spec.build(args, TransformContext())
        except (TransformArgsError, ValueError) as exc:
            issues.append(SpecIssue(where, f"bad arguments for '{name}': {exc}"))
    return issues


def _argument_issues(name: str, spec: TransformDef, args: Any, where: Path) -> list[SpecIssue]:
    from jsonschema import Draft202012Validator  # only to explain what is wrong

    return [
        SpecIssue((*where, *error.absolute_path), f"bad arguments for '{name}': {error.message}")
        for error in Draft202012Validator(spec.args_schema).iter_errors(args)
    ]


def _split_call(call: Any) -> tuple[str, Any]:
    if isinstance(call, str):
        return call, None
    ((name, args),) = call.items()
    return name, args


def _chained(getter: Getter, chain: list[Transform]) -> Getter:
    """One closure per field; the short chains most fields have skip the loop (hot path)."""
    if len(chain) == 1:
        (only,) = chain
        return lambda values: only(getter(values))
    if len(chain) == 2:
        first, second = chain

        def pair(values: Mapping[str, Any]) -> Any:
            value = first(getter(values))
            return OMIT if value is OMIT else second(value)

        return pair

    def run(values: Mapping[str, Any]) -> Any:
        value = getter(values)
        for transform in chain:
            value = transform(value)
            if value is OMIT:
                return OMIT
        return value

    return run
