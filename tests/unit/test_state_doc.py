"""Every `state:` block docs/state.md shows is one the spec's schema accepts."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.plugins import load_registry
from engine.specfile.schema import compose_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "state.md"
BLOCKS = [
    line.split("#", 1)[0].strip()
    for line in DOC.read_text(encoding="utf-8").splitlines()
    if re.match(r"^state: \{", line)
]


def test_the_page_shows_state_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("line", BLOCKS)
def test_a_documented_state_block_is_valid(line: str) -> None:
    schema = compose_schema(load_registry())
    block = yaml.safe_load(line.replace("${STATE_DB}", "postgresql://etl@db.internal/etl"))["state"]
    jsonschema.Draft202012Validator(
        {**schema["$defs"]["state"], "$defs": schema["$defs"]}
    ).validate(block)
