"""Walks a schema once and turns each keyword into a predicate; gives up on anything unknown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from engine.fastcheck import containers, logic, scalars
from engine.fastcheck.predicates import (
    DRAFT_2020_12_TYPES,
    FormatChecker,
    Predicate,
    Unsupported,
    all_true,
    always,
)

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$comment",
        "$defs",  # only a place for `$ref` targets
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "then",  # read by `if`; alone it asserts nothing
        "else",
    }
)


def compile_schema(
    schema: Mapping[str, Any] | bool,
    *,
    format_checker: FormatChecker | None = None,
    types: Mapping[str, Predicate] | None = None,
) -> Predicate | None:
    """A predicate equivalent to `Draft202012Validator(schema, format_checker=...).is_valid`
    (with its type checker's `types` redefined), or None when the schema is beyond this subset.

    `types` replaces the predicates of the named JSON types; `format_checker` makes `format`
    assert (without it, as in jsonschema, `format` is an annotation).
    """
    try:
        return Compiler(schema, format_checker, types or {}).compile(schema)
    except Unsupported:
        return None


def is_valid(schema: Mapping[str, Any] | bool, instance: Any) -> bool:
    """`Draft202012Validator(schema).is_valid(instance)`, compiled when the schema allows: spec
    checks answer "valid" without importing jsonschema, which loads only for what this cannot
    compile, and to explain a failure."""
    check = compile_schema(schema)
    if check is not None:
        return check(instance)
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema).is_valid(instance)


class Compiler:
    def __init__(
        self,
        root: Mapping[str, Any] | bool,
        format_checker: FormatChecker | None,
        types: Mapping[str, Predicate],
    ) -> None:
        self.root = root
        self.format_checker = format_checker
        self.types = {**DRAFT_2020_12_TYPES, **types}
        self.redefined = frozenset(types)
        self.plain_strings = "string" not in types  # {"type": "string"} may be tested inline
        self.refs: dict[str, Predicate] = {}
        self.resolving: dict[str, int] = {}  # reference -> how deep in the instance it began
        self.depth = 0  # how many containers down the instance the schema being compiled applies

    def compile(self, schema: Any) -> Predicate:
        if schema is True:
            return always
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, Mapping):
            raise Unsupported(repr(schema))
        if "$id" in schema and schema is not self.root:
            raise Unsupported("$id below the root changes the base of references")
        checks: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword == "$id":
                continue
            builder = _KEYWORDS.get(keyword)
            if builder is None:
                raise Unsupported(keyword)
            check = builder(self, value, schema)
            if check is not always:
                checks.append(check)
        return all_true(checks)

    def ref(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        if not isinstance(value, str) or not value.startswith("#"):
            raise Unsupported(f"$ref {value!r}: only local references are compiled")
        if value in self.resolving:
            if self.resolving[value] == self.depth:
                raise Unsupported(f"$ref {value!r} refers back to itself on the same value")
            refs = self.refs  # recursive (a mapping's nested fields): bound once compiled
            return lambda v: refs[value](v)
        if value not in self.refs:
            self.resolving[value] = self.depth
            try:
                self.refs[value] = self.compile(_pointer(self.root, value[1:]))
            finally:
                del self.resolving[value]
        return self.refs[value]

    def compile_child(self, schema: Any) -> Predicate:
        """A subschema applied to the items, keys or values of a container, one level down."""
        self.depth += 1
        try:
            return self.compile(schema)
        finally:
            self.depth -= 1


def _pointer(root: Any, fragment: str) -> Any:
    """The subschema a JSON Pointer fragment names (RFC 6901, percent-decoded as in a URI)."""
    target = root
    if not fragment:
        return target
    if not fragment.startswith("/"):
        raise Unsupported(f"#{fragment}: anchors are not compiled")
    for raw in fragment[1:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            raise Unsupported(f"#{fragment} does not resolve")  # jsonschema will say so
    return target


# Each keyword: (compiler, its value, the schema holding it) -> predicate.
_KEYWORDS: dict[str, Callable[[Compiler, Any, Mapping[str, Any]], Predicate]] = {
    "$ref": Compiler.ref,
    "type": scalars.type_,
    "enum": scalars.enum,
    "const": scalars.const,
    "pattern": scalars.pattern,
    "format": scalars.format_,
    "minLength": scalars.min_length,
    "maxLength": scalars.max_length,
    "minimum": scalars.bound("minimum"),
    "exclusiveMinimum": scalars.bound("exclusiveMinimum"),
    "maximum": scalars.bound("maximum"),
    "exclusiveMaximum": scalars.bound("exclusiveMaximum"),
    "minItems": containers.min_items,
    "maxItems": containers.max_items,
    "minProperties": containers.min_properties,
    "maxProperties": containers.max_properties,
    "uniqueItems": containers.unique_items,
    "required": containers.required,
    "dependentRequired": containers.dependent_required,
    "anyOf": logic.any_of,
    "oneOf": logic.one_of,
    "allOf": logic.all_of,
    "not": logic.not_,
    "if": logic.if_,
    "properties": containers.properties,
    "additionalProperties": containers.additional_properties,
    "propertyNames": containers.property_names,
    "items": containers.items,
}
