"""A JSON Schema subset compiled to plain Python predicates: the per-record check on the hot path.

jsonschema's `is_valid` costs ~120 µs per small record (it walks its keyword tables every time);
a compiled predicate costs a few µs. Only keywords whose meaning is unambiguous are compiled; a
schema using anything else is not compiled (`compile_schema` returns None) and the caller keeps
jsonschema. A failing record is always explained by jsonschema itself, so messages do not change.
Equivalence with jsonschema (Draft 2020-12) is property-tested (tests/unit/test_fastcheck.py).

The caller gives what its validator adds to the draft: a format checker (anything with
`conforms(instance, format)`, such as jsonschema's FormatChecker) and type overrides (a `number`
that refuses NaN, say). Local references (`#/...`) are resolved once, at compile time.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import unquote

Predicate = Callable[[Any], bool]


class FormatChecker(Protocol):
    """What `format` needs; jsonschema's FormatChecker has it (and `checkers`, used when present)."""

    def conforms(self, instance: object, format: str) -> bool: ...


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
_CLASSES: Mapping[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "null": type(None),
    "object": dict,
    "array": list,
}


def _always(_v: Any) -> bool:
    return True


def _is_string(v: Any) -> bool:
    return isinstance(v, str)


class _Unsupported(Exception):
    """The schema uses a keyword (or a reference) this compiler does not handle."""


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
        return _Compiler(schema, format_checker, types or {}).compile(schema)
    except _Unsupported:
        return None


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


class _Compiler:
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
        self.resolving: set[str] = set()

    def compile(self, schema: Any) -> Predicate:
        if schema is True:
            return _always
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, Mapping):
            raise _Unsupported(repr(schema))
        if "$id" in schema and schema is not self.root:
            raise _Unsupported("$id below the root changes the base of references")
        checks: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword == "$id":
                continue
            builder = _KEYWORDS.get(keyword)
            if builder is None:
                raise _Unsupported(keyword)
            check = builder(self, value, schema)
            if check is not _always:
                checks.append(check)
        return _all(checks)

    # -- the keywords, each (value, schema holding it) -> predicate --------------------------

    def ref(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        if not isinstance(value, str) or not value.startswith("#"):
            raise _Unsupported(f"$ref {value!r}: only local references are compiled")
        if value in self.resolving:
            raise _Unsupported(f"$ref {value!r} refers back to itself")
        if value not in self.refs:
            self.resolving.add(value)
            try:
                self.refs[value] = self.compile(_pointer(self.root, value[1:]))
            finally:
                self.resolving.discard(value)
        return self.refs[value]

    def type(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        names = [value] if isinstance(value, str) else list(value)
        if any(name not in self.types for name in names):
            raise _Unsupported(f"type {value!r}")
        # Types that are a Python class are tested by one isinstance, unless redefined.
        classes = tuple(_CLASSES[n] for n in names if n in _CLASSES and n not in self.redefined)
        tests = tuple(self.types[n] for n in names if n not in _CLASSES or n in self.redefined)
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

    def enum(self, values: Any, _schema: Mapping[str, Any]) -> Predicate:
        if not isinstance(values, list):
            raise _Unsupported("enum that is not a list")
        if all(isinstance(x, str) or x is None for x in values):
            # Strings equal only strings, None only None: a set lookup is exact here.
            allowed = frozenset(values)
            return lambda v: (v is None or isinstance(v, str)) and v in allowed
        frozen = tuple(values)
        return lambda v: any(equal(each, v) for each in frozen)

    def const(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        if isinstance(value, str):
            return lambda v: isinstance(v, str) and v == value
        return lambda v: equal(v, value)

    def pattern(self, value: str, _schema: Mapping[str, Any]) -> Predicate:
        search = re.compile(value).search  # jsonschema uses re.search: unanchored
        return lambda v: not isinstance(v, str) or search(v) is not None

    def format(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        checker = self.format_checker
        if checker is None:
            return _always
        known = getattr(checker, "checkers", None)
        if not isinstance(known, Mapping):
            return lambda v: checker.conforms(v, value)
        if value not in known:
            return _always  # an unknown format passes
        func, raises = known[value]

        def conforms(v: Any) -> bool:  # FormatChecker.check without building the error
            try:
                return bool(func(v))
            except raises:
                return False

        return conforms

    def min_length(self, limit: int, _schema: Mapping[str, Any]) -> Predicate:
        return lambda v: not isinstance(v, str) or len(v) >= limit

    def max_length(self, limit: int, _schema: Mapping[str, Any]) -> Predicate:
        return lambda v: not isinstance(v, str) or len(v) <= limit

    def min_items(self, limit: int, _schema: Mapping[str, Any]) -> Predicate:
        return lambda v: not isinstance(v, list) or len(v) >= limit

    def max_items(self, limit: int, _schema: Mapping[str, Any]) -> Predicate:
        return lambda v: not isinstance(v, list) or len(v) <= limit

    def min_properties(self, limit: int, _schema: Mapping[str, Any]) -> Predicate:
        return lambda v: not isinstance(v, dict) or len(v) >= limit

    def required(self, names: list[str], _schema: Mapping[str, Any]) -> Predicate:
        wanted = frozenset(names)
        return lambda v: not isinstance(v, dict) or wanted.issubset(v.keys())

    def dependent_required(
        self, value: Mapping[str, list[str]], _schema: Mapping[str, Any]
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

    def any_of(self, schemas: list[Any], _schema: Mapping[str, Any]) -> Predicate:
        options = tuple(self.compile(s) for s in schemas)

        def some(v: Any) -> bool:
            for option in options:  # noqa: SIM110 - likewise, faster than any() over a generator
                if option(v):
                    return True
            return False

        return some

    def all_of(self, schemas: list[Any], _schema: Mapping[str, Any]) -> Predicate:
        return _all([self.compile(s) for s in schemas])

    def not_(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        test = self.compile(value)
        return lambda v: not test(v)

    def if_(self, value: Any, schema: Mapping[str, Any]) -> Predicate:
        condition = self.compile(value)
        then = self.compile(schema["then"]) if "then" in schema else None
        otherwise = self.compile(schema["else"]) if "else" in schema else None
        if then is None and otherwise is None:
            return _always  # the outcome of `if` alone asserts nothing
        if otherwise is None:
            assert then is not None
            return lambda v: not condition(v) or then(v)
        if then is None:
            return lambda v: condition(v) or otherwise(v)
        return lambda v: then(v) if condition(v) else otherwise(v)

    def properties(self, schemas: Mapping[str, Any], schema: Mapping[str, Any]) -> Predicate:
        """`properties` and `additionalProperties` in one pass over the record's keys."""
        # Plain {"type": "string"} properties (most of them) are tested inline, without a call.
        plain = self.plain_strings
        strings = frozenset(n for n, s in schemas.items() if plain and s == {"type": "string"})
        compiled = {name: self.compile(s) for name, s in schemas.items() if name not in strings}
        extra = schema.get("additionalProperties", True)
        other = None if extra is True else self.compile(extra)
        for name in strings:
            compiled[name] = _is_string  # marks a plain string property for the loop below

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                test = compiled.get(name)
                if test is _is_string:
                    if not isinstance(value, str):
                        return False
                elif test is not None:
                    if not test(value):
                        return False
                elif other is not None and not other(value):
                    return False
            return True

        return check

    def additional_properties(self, value: Any, schema: Mapping[str, Any]) -> Predicate:
        if "properties" in schema:
            return _always  # checked by `properties`, in the same pass
        if value is False:
            return lambda v: not isinstance(v, dict) or not v
        test = self.compile(value)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for item in v.values():  # noqa: SIM110 - a loop beats all() on the hot path
                if not test(item):
                    return False
            return True

        return check

    def property_names(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        test = self.compile(value)
        return lambda v: not isinstance(v, dict) or all(test(name) for name in v)

    def items(self, value: Any, _schema: Mapping[str, Any]) -> Predicate:
        test = self.compile(value)

        def check(v: Any) -> bool:
            if not isinstance(v, list):
                return True
            for item in v:  # noqa: SIM110 - a loop beats all() on the hot path
                if not test(item):
                    return False
            return True

        return check


def _pointer(root: Any, fragment: str) -> Any:
    """The subschema a JSON Pointer fragment names (RFC 6901, percent-decoded as in a URI)."""
    target = root
    if not fragment:
        return target
    if not fragment.startswith("/"):
        raise _Unsupported(f"#{fragment}: anchors are not compiled")
    for raw in fragment[1:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            raise _Unsupported(f"#{fragment} does not resolve")  # jsonschema will say so
    return target


def _all(checks: list[Predicate]) -> Predicate:
    if not checks:
        return _always
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


_KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Predicate]] = {
    "$ref": _Compiler.ref,
    "type": _Compiler.type,
    "enum": _Compiler.enum,
    "const": _Compiler.const,
    "pattern": _Compiler.pattern,
    "format": _Compiler.format,
    "minLength": _Compiler.min_length,
    "maxLength": _Compiler.max_length,
    "minItems": _Compiler.min_items,
    "maxItems": _Compiler.max_items,
    "minProperties": _Compiler.min_properties,
    "required": _Compiler.required,
    "dependentRequired": _Compiler.dependent_required,
    "anyOf": _Compiler.any_of,
    "allOf": _Compiler.all_of,
    "not": _Compiler.not_,
    "if": _Compiler.if_,
    "properties": _Compiler.properties,
    "additionalProperties": _Compiler.additional_properties,
    "propertyNames": _Compiler.property_names,
    "items": _Compiler.items,
}
