"""The compiled record check agrees with jsonschema on every input."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.fastcheck import compile_schema

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


def test_a_schema_with_an_unknown_keyword_is_not_compiled() -> None:
    """Anything the compiler does not know falls back to jsonschema rather than being ignored."""
    assert compile_schema({"type": "object", "dependentRequired": {"a": ["b"]}}) is None
    assert compile_schema({"enum": [1, True]}) is None  # 1 == True in Python, not in JSON Schema
