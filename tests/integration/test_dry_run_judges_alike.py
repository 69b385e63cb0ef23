"""A dry run, `plan` and `test` judge each record as a real run does, encoding included.

An integer past 64 bits passes the record check (JSON has no size limit) but the endpoint's
encoder refuses it: a real run rejects that record alone. A dry run sends nothing, so it must ask
the encoder itself, or it counts the record as "would send".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningSandbox, run_cli

SPEC = """\
version: 1
omnisegment:
  base_url: ${SANDBOX_URL}
  tid: ${OMNISEGMENT_TID}
  api_key: ${OMNISEGMENT_API_KEY}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, custom_fields: [points]}
    max_reject_ratio: 0.5
    mapping:
      member_sn: id
      points: {from: points, transforms: [{cast: int}]}
"""
TOO_BIG = str(2**64)  # one past the largest integer the encoder writes


def _write(directory: Path) -> Path:
    rows = ["id,points", "M1,12", f"M2,{TOO_BIG}", "M3,18446744073709551615"]
    (directory / "members.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = directory / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def _report(spec: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    report = spec.parent / "report.json"
    done = run_cli(
        "--log-level", "warning", "run", str(spec), "--report", str(report), *args, env=env
    )
    assert done.returncode == 0, done.stderr
    sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
    return sync


def test_a_dry_run_rejects_the_integer_a_real_run_cannot_encode(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _write(tmp_path)

    dry = _report(spec, sandbox_env, "--dry-run")
    real = _report(spec, sandbox_env)

    assert (dry["rejected"], dry["unsent"]) == (1, 2)  # "would send" is the unsent of a dry run
    assert (real["rejected"], real["delivered"]) == (1, 2)
    assert sorted(sandbox.records("audience")) == ["M1", "M3"]


def test_plan_shows_the_same_rejection(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _write(tmp_path)

    done = run_cli("plan", str(spec), env=sandbox_env)

    assert done.returncode == 0, done.stderr
    assert "Integer exceeds 64-bit range" in done.stdout
