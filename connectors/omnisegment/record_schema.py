"""The record schemas shipped in schemas/ and what they require, read without any validator: the
spec checks use them, and `omnisync validate` must not pay for loading jsonschema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from connectors.omnisegment.endpoint_def import EndpointDef, Identity


@cache
def data_schema(schema_file: str) -> dict[str, Any]:
    """The record schema shipped in schemas/, parsed once."""
    path = Path(__file__).parent / "schemas" / schema_file
    if path.is_file():  # a package on disk: importlib.resources would cost more than validate
        text = path.read_text("utf-8")
    else:  # a zipped install
        from importlib import resources

        package = resources.files("connectors.omnisegment")
        text = package.joinpath("schemas", schema_file).read_text("utf-8")
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
