"""The walking skeleton end to end: `omnisync run` as a subprocess, a CSV, the sandbox."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import ROOT, RunningSandbox, run_cli
from tests.sandbox_specs import members_spec

SPEC = members_spec(
    """\
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 500/s}   # the real API allows 10/s; the sandbox here is unthrottled
    mapping:
      member_sn: id
      name: name
      email: {from: email, transforms: [trim, lower]}
      member_level: {const: "1"}
"""
)


def write_members(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email"])
        for i in range(count):
            writer.writerow([f"M{i:06d}", f"會員{i}", f" User{i}@Example.COM "])


def test_ten_thousand_rows_arrive_exactly_in_200_requests(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """10,000 rows become 10,000 members with mapped values, in 200 batches of 50."""
    write_members(tmp_path / "members.csv", 10_000)
    (tmp_path / "sync.yaml").write_text(SPEC, encoding="utf-8")

    result = run_cli("run", str(tmp_path / "sync.yaml"), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    stored = sandbox.records("audience")
    assert len(stored) == 10_000
    assert stored["M000042"] == {
        "member_sn": "M000042",
        "name": "會員42",
        "email": "user42@example.com",
        "member_level": "1",
    }
    assert sandbox.stats()["requests"] == {"/api/v2/audiences/batch-import/ 200": 200}
    assert "members: read 10000, delivered 10000, rejected 0" in result.stdout


def test_quickstart_runs_offline_against_the_embedded_sandbox() -> None:
    """The README's first command: no credentials, no network."""
    result = run_cli("run", str(ROOT / "configs" / "quickstart.yaml"))

    assert result.returncode == 0, result.stderr
    assert "members: read 8, delivered 8, rejected 0" in result.stdout
    assert '"event":"run_summary"' in result.stderr
