"""Helpers for the source tests: a spec around one source block, run in-process to the sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from engine.rows import Position, Row
from engine.run.runner import RunOptions, RunResult, run_spec
from engine.specfile import load_spec
from tests.sandbox_specs import sandbox_spec

SYNC = """\
  - name: members
    source: {source}
{incremental}    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 5000/s, concurrency: 8}}
    max_reject_ratio: 0.5
    mapping:
      member_sn: {key}
      name: name
"""


def write_spec(
    directory: Path, source: Mapping[str, Any], key: str = "id", cursor: str | None = None
) -> Path:
    incremental = f"    incremental: {{cursor: {cursor}}}\n" if cursor else ""
    text = sandbox_spec(
        SYNC.format(source=json.dumps(source, ensure_ascii=False), key=key, incremental=incremental)
    )
    path = directory / "sync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def deliver(
    directory: Path,
    source: Mapping[str, Any],
    env: Mapping[str, str],
    key: str = "id",
    cursor: str | None = None,
) -> RunResult:
    spec = load_spec(write_spec(directory, source, key, cursor), environ=env)
    return await run_spec(spec, RunOptions())


def member(i: int) -> tuple[str, str]:
    return f"M{i:06d}", f"會員{i}"


def rejects(directory: Path) -> list[dict[str, Any]]:
    path = directory / ".omnisync" / "rejects-members.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def collect(rows: AsyncIterator[Row]) -> list[Row]:
    return [row async for row in rows]


async def first_and_count(rows: AsyncIterator[Row]) -> tuple[Row | None, int, Position | None]:
    """The first row, how many rows, the last position: what a resume check needs."""
    first, count, last = None, 0, None
    async for row in rows:
        first = first or row
        count += 1
        last = row.position
    return first, count, last
