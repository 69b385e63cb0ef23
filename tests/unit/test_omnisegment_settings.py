"""OmniSegment settings the reference already answers (environments) and messages that say how to
fix a spec or a record (a transform to use, no raw regular expression, did-you-mean, the line)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from connectors.omnisegment.destination import OmniSegmentDestination
from tests.conftest import run_cli

CREDENTIALS = {"tid": "OA-1", "api_key": "k-123456"}


# -- 6. environments (Environments.md) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "host", "offset"),
    [
        ("tw", "https://api.omnisegment.com", "+08:00"),
        ("jp", "https://jp.api.omnisegment.com", "+09:00"),
        ("staging", "https://staging.omnicloud.tech", "+08:00"),
    ],
)
def test_every_documented_environment_has_its_host(
    environment: str, host: str, offset: str
) -> None:
    destination = OmniSegmentDestination({"environment": environment, **CREDENTIALS})

    assert destination.check_connection() == []
    assert destination.default_utc_offset() == offset

    async def opened() -> str | None:
        async with destination:
            return destination.base_url

    assert asyncio.run(opened()) == host


@pytest.mark.parametrize(
    ("base_url", "offset"),
    [
        ("https://jp.api.omnisegment.com", "+09:00"),
        ("https://jp.api.omnisegment.com/", "+09:00"),
        ("https://api.omnisegment.com", "+08:00"),
        ("https://staging.omnicloud.tech", "+08:00"),
    ],
)
def test_a_base_url_alone_gets_its_environments_offset(base_url: str, offset: str) -> None:
    """A jp. host is a Japanese account: naive datetimes are +09:00, not the Taiwanese +08:00."""
    destination = OmniSegmentDestination({"base_url": base_url, **CREDENTIALS})

    assert destination.default_utc_offset() == offset


def test_an_explicit_offset_wins() -> None:
    """A utc_offset in the spec wins over the offset its jp. host would give."""
    connection = {"base_url": "https://jp.api.omnisegment.com", "utc_offset": "+08:00"}
    destination = OmniSegmentDestination({**connection, **CREDENTIALS})

    assert destination.default_utc_offset() == "+08:00"


def spec(tmp_path: Path, connection: str, mapping: str, endpoint: str = "gift_voucher") -> Path:
    (tmp_path / "v.csv").write_text("id,member,kind,amount,start,end\n", encoding="utf-8")
    path = tmp_path / "sync.yaml"
    path.write_text(
        "version: 1\n"
        f"omnisegment: {connection}\n"
        "syncs:\n"
        "  - name: vouchers\n"
        "    source: {csv: {path: v.csv}}\n"
        f"    destination: {{endpoint: {endpoint}}}\n"
        "    mapping:\n" + mapping,
        encoding="utf-8",
    )
    return path


VOUCHER_MAPPING = (
    "      voucher_id: id\n"
    "      member_sn: member\n"
    "      voucher_type: kind\n"
    "      amount: {from: amount, transforms: [{number: {output: int}}]}\n"
    "      valid_from: start\n"
)


def test_a_jp_spec_without_base_url_is_valid(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        '{environment: jp, tid: OA-1, api_key: "${OMNISEGMENT_API_KEY}"}',
        VOUCHER_MAPPING + "      valid_util: end\n",
    )
    result = run_cli("validate", str(path), env={**os.environ, "OMNISEGMENT_API_KEY": "k-123456"})

    assert result.returncode == 0, result.stderr


# -- 8. messages that say how to fix -------------------------------------------------------------


def test_a_misspelt_required_field_is_named_at_the_mapping_key(tmp_path: Path) -> None:
    """`valid_until` (Note 2's spelling) for `valid_util`: did-you-mean, on the key's own line."""
    path = spec(tmp_path, "{environment: sandbox}", VOUCHER_MAPPING + "      valid_until: end\n")
    result = run_cli("validate", str(path))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines, result.stdout
    key_line = 13  # the line of `valid_until:` in the spec
    for line in lines:
        assert f"sync.yaml:{key_line}:" in line, line
    assert any("valid_util" in line and "valid_until" in line for line in lines), lines
    assert all("syncs[0].destination.endpoint" not in line for line in lines), lines


def test_an_unknown_target_field_points_at_its_mapping_key(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "{environment: sandbox}",
        VOUCHER_MAPPING + "      valid_util: end\n      colour: kind\n",
    )
    result = run_cli("validate", str(path))

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "sync.yaml:14:7 syncs[0].mapping.colour" in line


def _schemas() -> dict[str, Any]:
    folder = resources.files("connectors.omnisegment").joinpath("schemas")
    return {
        item.name: json.loads(item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".json")
    }


def _patterns(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append((where, node))
        for key, value in node.items():
            found.extend(_patterns(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_patterns(value, f"{where}/{i}"))
    return found


@pytest.mark.parametrize("name", sorted(_schemas()))
def test_every_pattern_is_described_in_words(name: str) -> None:
    """A refused value is explained by the pattern's description, never by the regex itself."""
    for where, node in _patterns(_schemas()[name], name):
        assert node.get("description"), f"{where}: a pattern without a description"
        assert not re.search(r"[\\^$]|\(\?", node["description"]), where
