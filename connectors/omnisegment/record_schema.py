"""The record schemas shipped in schemas/ and what they require, read without any validator: the
spec checks use them, and `omnisync validate` must not pay for loading jsonschema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from connectors.omnisegment.endpoint_def import EndpointDef, Identity


@cache
def data_schema(schema_file: str) -> dict[str, Any]:
    """The record schema shipped in schemas/, parsed once."""
    text = resources.files("connectors.omnisegment").joinpath("schemas", schema_file).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def required_fields(
    definition: EndpointDef, options: Mapping[str, Any]
) -> tuple[list[str], Identity]:
    """Top-level fields every record needs, and the member-key alternatives (one group needed)."""
    schema = data_schema(definition.schema)
    if definition.identity is not None:
        identity = definition.identity(options)
    else:
        identity = tuple(tuple(s["required"]) for s in schema.get("anyOf", ()))
    return list(schema.get("required", [])), identity
