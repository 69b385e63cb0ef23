"""Hypothesis strategies from the JSON Schema subset used by connectors/omnisegment/schemas.

Supports $ref to #/$defs, type, enum, const, pattern, min/maxLength, objects (properties, required,
additionalProperties, minProperties), arrays (items, min/maxItems), anyOf, not, dependentRequired and
allOf of if/then. It aims at mostly valid records; the tests rely on the client's check, not on this.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

Schema = dict[str, Any]


class Builder:
    def __init__(self, root: Schema) -> None:
        self.root = root

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            name = schema["$ref"].removeprefix("#/$defs/")
            schema = {
                **self.root["$defs"][name],
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
        return schema

    def build(self, schema: Schema | bool) -> st.SearchStrategy[Any]:
        if schema is True or schema == {}:
            return scalars()
        assert isinstance(schema, dict)
        schema = self.resolve(schema)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "not" in schema:
            rest = {k: v for k, v in schema.items() if k != "not"}
            refused = Draft202012Validator(schema["not"])
            return self.build(rest or {"type": "string", "minLength": 1}).filter(
                lambda value: not refused.is_valid(value)
            )
        if "anyOf" in schema and "type" not in schema and "properties" not in schema:
            return st.one_of([self.build(branch) for branch in schema["anyOf"]])
        kind = schema.get("type", "object" if "properties" in schema else None)
        if isinstance(kind, list):
            return st.one_of([self.build({**schema, "type": k}) for k in kind])
        return self._typed(kind, schema)

    def _typed(self, kind: str | None, schema: Schema) -> st.SearchStrategy[Any]:
        if kind == "string":
            return strings(schema)
        if kind == "integer":
            return st.integers(-(10**12), 10**12)
        if kind == "number":
            return st.integers(-(10**9), 10**9) | st.floats(allow_nan=True, allow_infinity=True)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "array":
            return st.lists(
                self.build(schema.get("items", True)),
                min_size=schema.get("minItems", 0),
                max_size=min(schema.get("maxItems", 3), 3),
            )
        if kind == "object":
            return self.objects(schema)
        return scalars()

    def objects(self, schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def draw_object(draw: st.DrawFn) -> dict[str, Any]:
            properties = schema.get("properties", {})
            required = set(schema.get("required", []))
            if "anyOf" in schema:
                required |= set(draw(st.sampled_from(schema["anyOf"])).get("required", []))
            result: dict[str, Any] = {}
            for name, sub in properties.items():
                if name in required or draw(st.integers(0, 3)) == 0:
                    result[name] = draw(self.build(sub))
            extra = schema.get("additionalProperties", True)
            if extra is not False and draw(st.integers(0, 4)) == 0:
                name = draw(st.sampled_from(["custom_a", "custom_b", "自定義"]))
                result.setdefault(name, draw(self.build(extra)))
            while len(result) < schema.get("minProperties", 0):
                result[f"k{len(result)}"] = draw(self.build(extra if extra is not False else {}))
            for key, needed in schema.get("dependentRequired", {}).items():
                for name in needed if key in result else ():
                    result.setdefault(name, draw(self.build(properties[name])))
            for rule in schema.get("allOf", []):
                if "if" in rule and Draft202012Validator(rule["if"]).is_valid(result):
                    self._apply(draw, rule["then"], properties, result)
            return result

        return draw_object()

    def _apply(
        self, draw: st.DrawFn, then: Schema, properties: Schema, result: dict[str, Any]
    ) -> None:
        overrides = then.get("properties", {})
        for name in {*then.get("required", []), *(n for n in overrides if n in result)}:
            merged = merge(self.resolve(properties.get(name, {})), overrides.get(name, {}))
            if name not in result or not Draft202012Validator(merged).is_valid(result[name]):
                result[name] = draw(self.build(merged))


def merge(base: Schema, extra: Schema) -> Schema:
    out = dict(base)
    for key, value in extra.items():
        if key == "required":
            out[key] = sorted({*base.get(key, []), *value})
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge(base[key], value)
        else:
            out[key] = value
    return out


def strings(schema: Schema) -> st.SearchStrategy[str]:
    if "pattern" in schema:
        pattern = schema["pattern"].removeprefix("^").removesuffix("(?!\\n)$")
        return st.from_regex(pattern, fullmatch=True)
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    return st.text(min_size=low, max_size=min(high or 12, 12)) | (
        st.text(min_size=high - 2, max_size=high + 2) if high else st.nothing()
    )


def scalars() -> st.SearchStrategy[Any]:
    return st.none() | st.booleans() | st.integers() | st.text(max_size=8)
