"""A JSON Schema subset compiled to plain Python predicates: the per-record check on the hot path.

jsonschema's `is_valid` costs ~120 µs per small record (it walks its keyword tables every time);
a compiled predicate costs a few µs. Only keywords whose meaning is unambiguous are compiled; a
schema using anything else is not compiled (`compile_schema` returns None) and the caller keeps
jsonschema. A failing record is always explained by jsonschema itself, so messages do not change.
Equivalence with jsonschema (Draft 2020-12) is property-tested (tests/unit/test_fastcheck.py).

The caller gives what its validator adds to the draft: a format checker (anything with
`conforms(instance, format)`, such as jsonschema's FormatChecker) and type overrides (a `number`
that refuses NaN, say). Local references (`#/...`) are resolved once, at compile time.

The spec checks use the same compiler through `is_valid`: a valid spec is confirmed without
importing jsonschema at all, which keeps `omnisync validate` quick to start.
"""

from engine.fastcheck.compiler import compile_schema, is_valid
from engine.fastcheck.predicates import DRAFT_2020_12_TYPES, FormatChecker, Predicate, equal

__all__ = [
    "DRAFT_2020_12_TYPES",
    "FormatChecker",
    "Predicate",
    "compile_schema",
    "equal",
    "is_valid",
]
