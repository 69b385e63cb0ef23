"""Deliver Python records through the real pipeline (mapping, check, batch, HTTP) to a sandbox.

Records travel as rows of an in-memory source and a `{from: field}` mapping, so typed and nested
values reach the endpoint unchanged, as a SQL or JSON source would deliver them.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import orjson

from connectors.omnisegment.destination import OmniSegmentDestination
from engine.clock import SystemClock
from engine.delivery.retry import RetryPolicy
from engine.delivery.sender import Sender
from engine.outcomes.reject_file import RejectFile
from engine.outcomes.report import SyncStats
from engine.plugins import load_registry
from engine.rows import Position, Row
from engine.run.pipeline import SyncPlan, SyncRun
from engine.transforms.base import TransformContext
from engine.transforms.mapping import compile_mapping
from tests.conftest import TEST_API_KEY, TEST_TID


class MemorySource:
    config_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    async def read(self, resume: Position | None) -> AsyncIterator[Row]:
        for i, values in enumerate(self.rows):
            yield Row(values, (i + 1,))

    def locate(self, position: Position) -> str:
        return f"memory:{position[0]}"


def block(endpoint: str, options: Mapping[str, Any], mode: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"endpoint": endpoint, "options": dict(options)}
    if mode:
        result["mode"] = mode
    return result


async def deliver(
    url: str,
    destination_block: dict[str, Any],
    records: list[dict[str, Any]],
    reject_path: Path,
    reveal: bool = False,
    mapping_spec: Mapping[str, Any] | None = None,
) -> tuple[SyncStats, list[dict[str, Any]]]:
    """Run one sync of `records`; return its stats and the reject file's entries.

    `mapping_spec` (a spec's `mapping:` block) replaces the default `{field: {from: field}}`."""
    fields = sorted({key for record in records for key in record})
    spec = mapping_spec or {name: {"from": name} for name in fields}
    mapping = compile_mapping(dict(spec), load_registry().transforms, TransformContext("+08:00"))
    connection = {"base_url": url, "tid": TEST_TID, "api_key": TEST_API_KEY}
    async with (
        OmniSegmentDestination(connection) as destination,
        aiohttp.ClientSession() as session,
    ):
        endpoint = destination.endpoint(destination_block)
        sender = Sender(session, SystemClock(), random.Random(0))
        plan = SyncPlan(
            name="test",
            source=MemorySource(records),
            mapping=mapping,
            endpoint=endpoint,
            batch_size=endpoint.batch_size,
            concurrency=2,
            limiter=sender.limiter(endpoint, 1000.0),
            policy=RetryPolicy.from_spec(None),
            rejects=RejectFile(reject_path, "test", endpoint.personal_fields, reveal),
        )
        stats = await SyncRun(plan, sender).run()
        plan.rejects.close()  # the runner's part: rows past the last mark are written at close
    return stats, read_rejects(reject_path)


def read_rejects(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
