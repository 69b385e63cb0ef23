"""Run a spec in-process through the real runner to the sandbox, and check that every row is
accounted for: rows read = delivered + filtered + rejected + unsent (+ failed), with `delivered`
equal to what the sandbox received and `rejected` equal to the lines of this run's reject file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.run.runner import RunOptions, RunResult, run_spec
from engine.specfile import load_spec
from tests.conftest import RunningSandbox
from tests.sandbox_specs import sandbox_spec

MEMBERS = """\
  - name: {name}
    source: {source}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}{extra}}}
    delivery: {{rate_limit: 5000/s, concurrency: 4}}
    max_reject_ratio: 1
    mapping:
{mapping}
"""
MAPPING = "      member_sn: member_sn\n      name: name\n"


def members_sync(
    source: Mapping[str, Any] | str,
    name: str = "members",
    mapping: str = MAPPING,
    extra: str = "",
) -> str:
    text = source if isinstance(source, str) else json.dumps(source, ensure_ascii=False)
    return MEMBERS.format(name=name, source=text, mapping=mapping, extra=extra)


def write_spec(directory: Path, *syncs: str, top: str = "") -> Path:
    path = directory / "spec.yaml"
    path.write_text(sandbox_spec(*syncs, top=top), encoding="utf-8")
    return path


async def run(
    directory: Path, env: Mapping[str, str], *syncs: str, top: str = "", **options: Any
) -> RunResult:
    spec = load_spec(write_spec(directory, *syncs, top=top), environ=env)
    return await run_spec(spec, RunOptions(**options))


def reject_lines(directory: Path, sync: str = "members") -> list[dict[str, Any]]:
    path = directory / ".omnisync" / f"rejects-{sync}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_accounted(
    result: RunResult, sandbox: RunningSandbox, directory: Path, endpoint: str = "audience"
) -> dict[str, int]:
    """Every row of every sync is delivered, filtered, rejected or unsent, and the sandbox agrees."""
    delivered = 0
    for stats in result.syncs:
        data = stats.as_dict()
        finished = (
            data["delivered"]
            + data["filtered"]
            + data["rejected"]
            + data["unsent"]
            + data["failed"]
        )
        assert data["rows_read"] == finished, data
        assert min(data[k] for k in ("delivered", "filtered", "rejected", "unsent")) >= 0, data
        delivered += data["delivered"]
        written = [r for r in reject_lines(directory, stats.sync) if r.get("sync") == stats.sync]
        assert len(written) == data["rejected"], (data, written[:3])
    received = sandbox.stats()["received"].get(endpoint, 0)
    assert received == delivered, (received, delivered)
    return {"delivered": delivered, "received": received}
