"""`omnisync run` in CI: several specs in one run, one report, a Markdown step summary."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningSandbox, invoke_cli
from tests.sandbox_specs import sandbox_spec

SYNC = """\
  - name: {name}
    source: {{csv: {{path: {name}.csv}}}}
    destination: {{endpoint: audience}}
    reject_file: out/rejects-{{sync}}.jsonl
    mapping: {{member_sn: id, sex: sex}}
"""


def _write(tmp_path: Path, name: str, rows: list[str], ratio: float = 0.0) -> Path:
    (tmp_path / f"{name}.csv").write_text("id,sex\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp_path / f"{name}.yaml"
    text = sandbox_spec(SYNC.format(name=name), top=f"max_reject_ratio: {ratio}\n")
    spec.write_text(text, encoding="utf-8")
    return spec


def test_several_specs_run_in_order_with_one_report_and_a_step_summary(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    first = _write(tmp_path, "shop_a", ["A1,male", "A2,female"])
    second = _write(tmp_path, "shop_b", ["B1,male", "B2,unknown", "B3,female"], ratio=0.5)
    step_summary = tmp_path / "github" / "step_summary.md"
    step_summary.parent.mkdir()
    step_summary.write_text("earlier step\n", encoding="utf-8")
    env = {**sandbox_env, "GITHUB_STEP_SUMMARY": str(step_summary)}
    report_file, summary_file = tmp_path / "out" / "report.json", tmp_path / "out" / "summary.md"

    result = invoke_cli(
        "run",
        str(first),
        str(second),
        "--report",
        str(report_file),
        "--summary",
        str(summary_file),
        env=env,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert set(sandbox.records("audience")) == {"A1", "A2", "B1", "B3"}
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["exit_code"] == 0
    assert report["specs"] == [str(first), str(second)]
    assert len(report["run_id"]) == 12
    assert report["started_at"] <= report["finished_at"]
    assert report["omnisync_version"]
    assert [(s["spec"], s["sync"], s["delivered"], s["rejected"]) for s in report["syncs"]] == [
        (str(first), "shop_a", 2, 0),
        (str(second), "shop_b", 2, 1),
    ]
    assert report["syncs"][1]["reject_file"] == str(tmp_path / "out" / "rejects-shop_b.jsonl")
    assert {s["endpoint"] for s in report["syncs"]} == {"audience"}
    assert {s["route"] for s in report["syncs"]} == {"/api/v2/audiences/batch-import/"}
    assert [s["stored_position"] for s in report["syncs"]] == [None, None]  # read all next time
    (reject,) = (tmp_path / "out" / "rejects-shop_b.jsonl").read_text("utf-8").splitlines()
    assert json.loads(reject)["run_id"] == report["run_id"]
    markdown = summary_file.read_text(encoding="utf-8")
    assert markdown.startswith("## omnisync run: succeeded\n")
    assert f"| {first} | shop_a | 2 | 2 | 0 | 0 | 0 |" in markdown
    assert f"| {second} | shop_b | 3 | 2 | 0 | 0 | 1 |" in markdown
    assert f"- shop_b: `{tmp_path / 'out' / 'rejects-shop_b.jsonl'}`" in markdown
    assert step_summary.read_text(encoding="utf-8") == "earlier step\n" + markdown


def test_a_failing_spec_shows_its_exit_in_the_summary(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    strict = _write(tmp_path, "strict", ["S1,male", "S2,unknown"])
    summary_file = tmp_path / "summary.md"

    result = invoke_cli(
        "run", str(strict), "--summary", str(summary_file), env=sandbox_env, cwd=tmp_path
    )

    assert result.returncode == 3
    markdown = summary_file.read_text(encoding="utf-8")
    assert markdown.startswith("## omnisync run: failed, exit 3\n")
    assert f"| {strict} | strict | 2 | 1 | 0 | 0 | 1 |" in markdown
    assert markdown.rstrip().endswith("| 3 |") or "| 3 |\n" in markdown


def test_every_spec_is_checked_before_any_row_is_sent(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    good = _write(tmp_path, "good", ["G1,male"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsyncs: []\n", encoding="utf-8")

    result = invoke_cli("run", str(good), str(bad), env=sandbox_env, cwd=tmp_path)

    assert result.returncode == 2
    assert "syncs: must have at least 1 item" in result.stderr
    assert sandbox.records("audience") == {}


def test_dry_run_says_what_it_would_send(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _write(tmp_path, "dry", ["D1,male", "D2,female"])
    summary_file = tmp_path / "summary.md"

    result = invoke_cli(
        "run", str(spec), "--dry-run", "--summary", str(summary_file), env=sandbox_env
    )

    assert result.returncode == 0, result.stderr
    assert "would send 2" in result.stdout
    assert "| would send 2 |" in summary_file.read_text(encoding="utf-8")
    assert sandbox.records("audience") == {}


def test_select_must_name_a_sync_of_one_of_the_specs(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    first, second = _write(tmp_path, "one", ["O1,male"]), _write(tmp_path, "two", ["T1,male"])

    chosen = invoke_cli("run", str(first), str(second), "--select", "two", env=sandbox_env)
    unknown = invoke_cli("run", str(first), str(second), "--select", "three", env=sandbox_env)

    assert chosen.returncode == 0, chosen.stderr
    assert set(sandbox.records("audience")) == {"T1"}
    assert unknown.returncode == 1
    assert "no sync named 'three'" in unknown.stderr
