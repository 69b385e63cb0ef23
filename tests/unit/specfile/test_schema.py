"""The spec schema is a data file; it and its composition with the plugins are valid schemas."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from engine.plugins import load_registry
from engine.specfile.schema import base_schema, compose_schema
from tests.conftest import invoke_cli


def test_the_base_schema_file_is_a_valid_2020_12_schema() -> None:
    schema = base_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_composed_schema_holds_every_installed_plugin() -> None:
    registry = load_registry()
    schema = compose_schema(registry)

    Draft202012Validator.check_schema(schema)
    assert set(schema["$defs"]["source"]["properties"]) == set(registry.sources)
    assert "omnisegment" in schema["properties"]
    endpoints = schema["$defs"]["destinations"]["omnisegment"]["properties"]["endpoint"]["enum"]
    assert {"audience", "purchase", "gift_voucher", "blacklist", "event"} <= set(endpoints)


def test_omnisync_schema_prints_the_composed_schema() -> None:
    result = invoke_cli("schema")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(compose_schema(load_registry())))
