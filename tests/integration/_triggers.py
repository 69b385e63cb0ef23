"""A trigger sync on the test sandbox: members.csv (id) to workflow node 128, once per window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import RunningSandbox, run_cli
from tests.sandbox_specs import members_spec

NODE = 128
TRIGGER_SYNC = """\
    destination: {{endpoint: workflow_trigger, options: {{node_id: 128}}}}
    once_per: {window}
    delivery: {delivery}
    mapping:
      member_sn: id
"""


def write_trigger_spec(
    directory: Path,
    members: int,
    window: str = "1d",
    delivery: str = "{rate_limit: 1000/s}",
    top: str = "",
    first: int = 0,
) -> Path:
    """sync.yaml and members.csv (M000000 ...) in `directory`."""
    with (directory / "members.csv").open("w", encoding="utf-8") as handle:
        handle.write("id\n")
        handle.writelines(f"M{i:06d}\n" for i in range(first, first + members))
    spec = directory / "sync.yaml"
    text = members_spec(TRIGGER_SYNC.format(window=window, delivery=delivery), top=top)
    spec.write_text(text, encoding="utf-8")
    return spec


def triggered(sandbox: RunningSandbox) -> dict[str, int]:
    """Member -> how many times the sandbox was asked to trigger node 128 for it."""
    prefix = f"{NODE}:"
    return {
        key[len(prefix) :]: count
        for key, count in sandbox.counts("workflow_trigger").items()
        if key.startswith(prefix)
    }


def run_triggers(
    spec: Path, env: dict[str, str], *args: str, code: int | None = 0
) -> tuple[dict[str, Any], str]:
    """`omnisync run` with a report: (the sync's report with the run's exit_code, stdout);
    asserts the exit code unless `code` is None."""
    report = spec.parent / "report.json"
    report.unlink(missing_ok=True)
    done = run_cli(
        "--log-level", "warning", "run", str(spec), "--report", str(report), *args, env=env
    )
    assert code is None or done.returncode == code, (done.returncode, done.stdout, done.stderr)
    sync: dict[str, Any] = json.loads(report.read_text())["syncs"][0]
    sync["exit_code"] = done.returncode
    return sync, done.stdout
