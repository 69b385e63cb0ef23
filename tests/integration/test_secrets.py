"""The API key never appears in any output, whatever the log level."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TEST_API_KEY, RunningSandbox, run_cli
from tests.sandbox_specs import members_spec

SPEC = members_spec(
    """\
    destination: {endpoint: audience}
    delivery: {rate_limit: 500/s}
    reject_file: out/rejects.jsonl
    mapping:
      member_sn: id
      name: name
      sex: sex
"""
)


def _files_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file()
    )


def test_api_key_is_nowhere_in_output_or_files(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Debug logs, the summary, the report and the reject file all leave the key out."""
    rows = ["id,name,sex", "M1,王小明,male", "M2,Bad Sex,unknown", "M3,林志豪,female"]
    (tmp_path / "members.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "sync.yaml").write_text(SPEC, encoding="utf-8")

    result = run_cli(
        "--log-level",
        "debug",
        "run",
        str(tmp_path / "sync.yaml"),
        "--report",
        str(tmp_path / "out" / "report.json"),
        env=sandbox_env,
    )

    assert result.returncode == 3, result.stderr  # one row rejected, max_reject_ratio 0
    assert '"event":"request"' in result.stderr  # debug really was on
    assert (tmp_path / "out" / "rejects.jsonl").exists()
    assert len(sandbox.records("audience")) == 2
    for text in (result.stdout, result.stderr, _files_text(tmp_path)):
        assert TEST_API_KEY not in text


def test_refused_key_is_reported_without_the_key(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A wrong key stops the run with exit 1 and a message about the credentials, not the key."""
    wrong_key = "wrong-key-7c1e5d22-0f4b-4f6e-9a53-bb2c1d0e9f11"
    (tmp_path / "members.csv").write_text("id,name,sex\nM1,A,male\n", encoding="utf-8")
    (tmp_path / "sync.yaml").write_text(SPEC, encoding="utf-8")
    env = {**sandbox_env, "OMNISEGMENT_API_KEY": wrong_key}

    result = run_cli("--log-level", "debug", "run", str(tmp_path / "sync.yaml"), env=env)

    assert result.returncode == 1
    assert "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr
    for text in (result.stdout, result.stderr, _files_text(tmp_path)):
        assert wrong_key not in text
