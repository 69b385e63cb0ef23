"""The compiled record check agrees with jsonschema on every input."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, validators

from engine.fastcheck import compile_schema, equal

AUDIENCE = json.loads(
    resources.files("connectors.omnisegment").joinpath("schemas", "audience.json").read_text()
)
OTHER = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": ["string", "integer"], "maxLength": 4},
        "kind": {"const": "a"},
        "n": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "opt": {"enum": ["x", None]},
    },
    "additionalProperties": {"type": "boolean"},
    "allOf": [{"type": "object"}],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "a", "x", "male", "female", "1990-01-02", "1990-1-2", "abcde", "é"]),
    st.text(max_size=6),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))


def payloads(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    names = st.sampled_from([*schema["properties"], "source_id", "source_system", "extra"])
    return st.one_of(st.dictionaries(names, values, max_size=6), values)


@settings(max_examples=400)
@given(payloads(AUDIENCE))
def test_audience_check_matches_jsonschema(payload: Any) -> None:
    """Whatever the payload, the compiled check and jsonschema give the same verdict."""
    check = compile_schema(AUDIENCE)
    assert check is not None
    assert check(payload) == Draft202012Validator(AUDIENCE).is_valid(payload)


@settings(max_examples=400)
@given(payloads(OTHER))
def test_other_keywords_match_jsonschema(payload: Any) -> None:
    """Type lists, integers, const, arrays, additionalProperties and allOf agree too."""
    check = compile_schema(OTHER)
    assert check is not None
    assert check(payload) == Draft202012Validator(OTHER).is_valid(payload)


# --- Generated schemas over every compiled keyword -------------------------------------------

NAMES = ["a", "b", "c", ""]
FORMATS = FormatChecker(formats=())


@FORMATS.checks("short", raises=ValueError)
def _short(value: object) -> bool:
    """At most one item or character; 'bad' and None raise, as a parsing format check would.
    (Not only strings, so that generated instances often meet a failing format.)"""
    if value is None or value == "bad":
        raise ValueError("bad")
    return not isinstance(value, str | list | dict) or len(value) <= 1


def _finite(_checker: object, instance: object) -> bool:
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and math.isfinite(instance))


FiniteValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 0.0, 1.0, 1.5, 2, math.nan, math.inf, -math.inf]),
    st.integers(-3, 3),
    st.sampled_from(["", "a", "b", "ab", "abc", "bad", "1", "2024-02-30", "A"]),
    st.text(max_size=4),
)
instances = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner),
    max_leaves=8,
)
small = st.integers(0, 3)
names = st.lists(st.sampled_from(NAMES), max_size=3, unique=True)
type_names = st.sampled_from(["string", "number", "integer", "boolean", "null", "object", "array"])
enum_values = st.one_of(json_scalars, st.just([1]), st.just({"a": True}), st.just([True]))

leaf_keywords = st.one_of(
    st.tuples(st.just("type"), type_names | st.lists(type_names, max_size=3, unique=True)),
    st.tuples(st.just("enum"), st.lists(enum_values, max_size=4)),
    st.tuples(st.just("const"), enum_values),
    st.tuples(st.just("pattern"), st.sampled_from(["^a", "b", "^[0-9]+$", "^a(?!\\n)$", ""])),
    st.tuples(st.just("format"), st.sampled_from(["short", "unknown-format"])),
    st.tuples(st.sampled_from(["minLength", "maxLength", "minItems", "maxItems"]), small),
    st.tuples(st.sampled_from(["minProperties", "maxProperties"]), small),
    st.tuples(
        st.sampled_from(["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"]),
        st.integers(-2, 2) | st.just(0.5),
    ),
    st.tuples(st.just("uniqueItems"), st.booleans()),
    st.tuples(st.just("required"), names),
    st.tuples(st.just("dependentRequired"), st.dictionaries(st.sampled_from(NAMES), names)),
    st.tuples(st.just("description"), st.just("annotations are ignored")),
)


def leaf_dicts(refs: bool) -> st.SearchStrategy[dict[str, Any]]:
    keywords = leaf_keywords
    if refs:
        keywords |= st.tuples(st.just("$ref"), st.sampled_from(["#/$defs/d0", "#/$defs/d1"]))
    return st.lists(keywords, max_size=3).map(dict)


def leaf_schemas(refs: bool) -> st.SearchStrategy[Any]:
    return st.booleans() | leaf_dicts(refs)


def composite(inner: st.SearchStrategy[Any], refs: bool = True) -> st.SearchStrategy[Any]:
    def one(keyword: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.tuples(st.just(keyword), value).map(lambda kv: {kv[0]: kv[1]})

    def conditional(parts: tuple[Any, Any, Any]) -> dict[str, Any]:
        condition, then, otherwise = parts
        schema: dict[str, Any] = {"if": condition}
        if then is not None:
            schema["then"] = then
        if otherwise is not None:
            schema["else"] = otherwise
        return schema

    keyword = st.one_of(
        one("anyOf", st.lists(inner, min_size=1, max_size=3)),
        one("oneOf", st.lists(inner, min_size=1, max_size=3)),
        one("allOf", st.lists(inner, min_size=1, max_size=3)),
        one("not", inner),
        st.tuples(inner, st.none() | inner, st.none() | inner).map(conditional),
        one("then", inner),  # without `if`: ignored
        one("properties", st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)),
        one("additionalProperties", inner),
        st.tuples(st.dictionaries(st.sampled_from(NAMES), inner, max_size=2), inner).map(
            lambda pa: {"properties": pa[0], "additionalProperties": pa[1]}
        ),
        one("propertyNames", inner),
        one("items", inner),
    )

    def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in parts:
            out.update(part)
        return out

    return st.lists(keyword | leaf_dicts(refs), min_size=1, max_size=3).map(merged)


schemas = st.builds(
    lambda body, d0, d1: (
        {**body, "$defs": {"d0": d0, "d1": d1}} if isinstance(body, dict) else body
    ),
    st.recursive(leaf_schemas(True), composite, max_leaves=6),
    st.recursive(leaf_schemas(False), lambda s: composite(s, refs=False), max_leaves=3),
    leaf_schemas(False),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(schemas, st.lists(instances, min_size=1, max_size=6))
def test_generated_schemas_match_jsonschema(schema: Any, cases: list[Any]) -> None:
    """Every compiled keyword, nested and combined, refs included: the same verdicts as jsonschema,
    with and without a format checker and a redefined `number`."""
    plain = compile_schema(schema)
    assert plain is not None
    checked = compile_schema(schema, format_checker=FORMATS, types={"number": _finite_number})
    assert checked is not None
    reference = Draft202012Validator(schema)
    finite = FiniteValidator(schema, format_checker=FORMATS)
    for instance in cases:
        assert plain(instance) == reference.is_valid(instance), instance
        assert checked(instance) == finite.is_valid(instance), instance


def _finite_number(instance: object) -> bool:
    return _finite(None, instance)


@given(enum_values, enum_values)
def test_equality_is_jsonschemas(one: Any, two: Any) -> None:
    """enum and const compare as jsonschema does: 1 == 1.0, True != 1, [True] != [1]."""
    from jsonschema._utils import equal as reference  # private, hence only here

    assert equal(one, two) == reference(one, two)


def test_what_the_draft_says_on_the_subtle_cases() -> None:
    """Spelled out, so that a change of jsonschema or of the compiler shows which rule moved."""
    formats = {"format_checker": FORMATS}
    cases: list[tuple[Any, Any, bool]] = [
        ({"type": "integer"}, 1.0, True),
        ({"type": "number"}, True, False),
        ({"enum": [1]}, True, False),
        ({"enum": [1]}, 1.0, True),
        ({"const": [1, {"a": 0}]}, [1.0, {"a": 0.0}], True),
        ({"const": [1]}, [True], False),
        ({"pattern": "b"}, "abc", True),  # search, not match
        ({"minProperties": 2}, [1], True),  # applies to objects only
        ({"maxItems": 0}, {"a": 1}, True),  # applies to arrays only
        ({"if": {"type": "string"}}, 5, True),  # `if` alone asserts nothing
        ({"then": False}, 5, True),  # `then` without `if` is ignored
        ({"propertyNames": {"maxLength": 1}}, {"ab": 1}, False),
        ({"dependentRequired": {"a": ["b"]}}, {"b": 1}, True),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False),
        ({"format": "unknown-format"}, "anything", True),
        ({"format": "short"}, "abc", False),
        ({"format": "short"}, "bad", False),  # the checker raised one of its `raises`
    ]
    for schema, instance, expected in cases:
        compiled = compile_schema(schema, **formats)
        assert compiled is not None, schema
        assert compiled(instance) is expected, (schema, instance)
        assert Draft202012Validator(schema, **formats).is_valid(instance) is expected
    assert compile_schema({"format": "short"})("abc") is True  # type: ignore[misc]


def test_references_resolve_at_compile_time_and_cycles_fall_back() -> None:
    """Local $ref is inlined; a reference that loops on the same value, leaves the document or
    resolves nowhere is left to jsonschema."""
    schema = {"$defs": {"a~/b": {"type": "string"}}, "items": {"$ref": "#/$defs/a~0~1b"}}
    check = compile_schema(schema)
    assert check is not None
    assert check(["x"]) is True
    assert check([1]) is False
    assert compile_schema({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}) is None
    assert compile_schema({"$defs": {"a": {"anyOf": [{"$ref": "#"}]}}, "$ref": "#/$defs/a"}) is None
    assert compile_schema({"$ref": "other.json#/x"}) is None
    assert compile_schema({"$ref": "#/$defs/missing"}) is None
    assert compile_schema({"$defs": {"a": {"$id": "x.json"}}, "$ref": "#/$defs/a"}) is None


@settings(max_examples=300)
@given(leaf_dicts(refs=False), st.lists(instances, min_size=1, max_size=6))
def test_recursive_schemas_match_jsonschema(node: dict[str, Any], cases: list[Any]) -> None:
    """A schema that refers to itself one level down (a mapping's nested fields) is compiled
    with a late-bound reference, and decides as jsonschema does at every depth."""
    schema = {
        "$defs": {
            "node": {
                **node,
                "properties": {"a": {"$ref": "#/$defs/node"}},
                "items": {"$ref": "#"},
            }
        },
        "$ref": "#/$defs/node",
    }
    check = compile_schema(schema)
    assert check is not None
    reference = Draft202012Validator(schema)
    for instance in cases:
        assert check(instance) == reference.is_valid(instance), instance


def test_a_schema_with_an_unknown_keyword_is_not_compiled() -> None:
    """Anything the compiler does not know falls back to jsonschema rather than being ignored."""
    assert compile_schema({"type": "object", "patternProperties": {"^a": {}}}) is None
    assert compile_schema({"items": {"contains": {"type": "string"}}}) is None
    assert compile_schema({"if": {"multipleOf": 2}}) is None
    assert compile_schema({"type": "decimal"}) is None
