"""Every endpoint's record check is compiled, and the compiled check gives RecordValidator's verdict
on the example records, on each of them missing a field, and on generated mutations of them."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.endpoint import data_validator, fast_check
from connectors.omnisegment.endpoint_def import EndpointDef, Identity
from connectors.omnisegment.record_rules import FORMATS, TYPES
from engine.fastcheck import compile_schema
from tests.integration.endpoint_cases import CASES, Case
from tests.integration.schema_strategy import Builder


def option_variants(definition: EndpointDef) -> Iterator[dict[str, Any]]:
    """Every combination of the enum and boolean options of the endpoint's routes."""
    for route in definition.routes.values():
        choices: list[list[tuple[str, Any]]] = []
        for name, schema in route.options.get("properties", {}).items():
            if "enum" in schema:
                choices.append([(name, value) for value in schema["enum"]])
            elif schema.get("type") == "boolean":
                choices.append([(name, True), (name, False)])
        for combination in itertools.product(*choices):
            yield dict(combination)


def identities(definition: EndpointDef) -> set[Identity | None]:
    found: set[Identity | None] = {None}
    if definition.identity is not None:
        found |= {definition.identity(options) for options in option_variants(definition)}
    return found


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_endpoint_schema_compiles(name: str) -> None:
    """With and without each identity the options can give: jsonschema stays off the hot path."""
    definition = CATALOGUE[name]
    variants = identities(definition)
    if definition.identity is not None:
        assert len(variants) > 2, variants  # the options were really enumerated
    for identity in variants:
        validator = data_validator(definition.schema, identity)
        assert compile_schema(validator.schema, format_checker=FORMATS, types=TYPES) is not None
        assert fast_check(definition.schema, identity) != validator.is_valid, identity


def case_identity(case: Case) -> Identity | None:
    definition = CATALOGUE[case.endpoint]
    return definition.identity(case.options) if definition.identity else None


def checks(case: Case) -> tuple[Any, Any]:
    """(compiled check, RecordValidator.is_valid) of the case's endpoint and options."""
    schema_file, identity = CATALOGUE[case.endpoint].schema, case_identity(case)
    validator = data_validator(schema_file, identity)
    compiled = fast_check(schema_file, identity)
    assert compiled != validator.is_valid, "the check was not compiled"
    return compiled, validator.is_valid


@pytest.mark.parametrize("case", CASES, ids=[c.id + "-" + "-".join(c.options) for c in CASES])
def test_example_records_and_each_without_a_field(case: Case) -> None:
    """The valid examples pass both checks; without any one of their fields, both agree."""
    compiled, reference = checks(case)
    for record in case.records:
        assert compiled(record) is True
        assert reference(record) is True
        for name in record:
            broken = {key: value for key, value in record.items() if key != name}
            assert compiled(broken) == reference(broken), name
    for name in case.required:
        broken = {key: value for key, value in case.records[0].items() if key != name}
        assert compiled(broken) is False, name


BAD_STRINGS = [
    "",
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "1990-01-01\n",
    "2024-02-30T10:00:00+08:00",
    "2024-02-29T10:00:00",
    "2024-02-29T24:00:00+08:00",
    "2024-05-01T12:00:00.1234567+08:00",
    "2024-05-01 12:00:00+0800",
    "2024-05-01 25:00:00",
    "2020-08-31T23:59:59+08:00/2020-08-01T00:00:00+08:00",
    "2020-08-01T00:00:00+08:00/2020-08-31T23:59:59",
    "ftp://test.com/x",
    "999,5 TWD",
    "12.345",
    "twd",
    "x" * 257,
    "x" * 1026,
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 1.0, 2.5, math.nan, math.inf, -math.inf])
    | st.text(max_size=6)
    | st.sampled_from(BAD_STRINGS),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["default", "sku", "name", "token", "x", ""]), inner)
    ),
    max_leaves=5,
)


def containers(value: Any) -> Iterator[dict[str, Any] | list[Any]]:
    """The record and every object and array inside it."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from containers(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from containers(item)


def mutations(base: st.SearchStrategy[Any], schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    names = sorted({*schema.get("properties", {}), "extra", "自定義", "default", "sku"})

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        record = copy.deepcopy(draw(base))
        known = [v for c in containers(record) for v in (c.values() if isinstance(c, dict) else c)]
        values = json_values | (
            st.sampled_from(known).map(copy.deepcopy) if known else st.nothing()
        )
        for _ in range(draw(st.integers(1, 3))):
            target = draw(st.sampled_from(list(containers(record)) or [None]))
            if target is None:
                return draw(json_values)  # the record itself is not an object
            action = draw(st.sampled_from(["drop", "set", "add"]))
            if isinstance(target, dict):
                if action == "drop" and target:
                    del target[draw(st.sampled_from(sorted(target)))]
                else:
                    keys = sorted(target) if action == "set" and target else names
                    target[draw(st.sampled_from(keys))] = draw(values)
            elif action == "drop" and target:
                del target[draw(st.integers(0, len(target) - 1))]
            elif action == "set" and target:
                target[draw(st.integers(0, len(target) - 1))] = draw(values)
            else:
                target.append(draw(values))
        return record

    return mutate()


@pytest.mark.parametrize("case", CASES, ids=[c.id + "-" + "-".join(c.options) for c in CASES])
def test_mutated_records_get_the_same_verdict(case: Case) -> None:
    """Dropped keys, NaN, wrong types, impossible dates, deep inside or at the top: same verdict."""
    compiled, reference = checks(case)
    schema = data_validator(CATALOGUE[case.endpoint].schema, case_identity(case)).schema
    records = st.sampled_from(case.records) | Builder(schema).build(schema)
    verdicts: set[bool] = set()

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(mutations(records, schema))
    def same_verdict(record: Any) -> None:
        note(repr(record))
        verdict = reference(record)
        assert compiled(record) == verdict
        verdicts.add(verdict)

    same_verdict()
    assert verdicts == {True, False}, "the mutations never (or always) broke a record"
