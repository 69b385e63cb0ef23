"""Personal data stays masked in what a run writes, unless --reveal-pii; files are owner-only."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.conftest import RunningSandbox, run_cli
from tests.sandbox_specs import members_spec

SPEC = members_spec(
    """\
    destination: {endpoint: audience}
    delivery: {rate_limit: 500/s}
    reject_file: out/rejects.jsonl
    mapping:
      member_sn: id
      name: name
      email: {from: email, transforms: [email]}
""",
    top="max_reject_ratio: 1\n",
)


def _write(tmp_path: Path) -> Path:
    rows = ["id,name,email", "M1,Alice Chen,alice.chen@example", "M2,Bob Lin,bob@example.com"]
    (tmp_path / "members.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def _rejects(tmp_path: Path) -> list[dict[str, object]]:
    text = (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_reject_reasons_are_masked_like_the_record(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _write(tmp_path)
    report = tmp_path / "out" / "report.json"

    result = run_cli("run", str(spec), "--report", str(report), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    (reject,) = _rejects(tmp_path)
    assert reject["field"] == "email"
    assert reject["reason"] == "email: not a valid address: 'a***@example'"
    assert "alice.chen" not in json.dumps(reject, ensure_ascii=False)
    for written in (tmp_path / "out" / "rejects.jsonl", report):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written


def test_reveal_pii_shows_the_value_in_the_reason(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _write(tmp_path)
    (tmp_path / "out").mkdir()
    earlier = '{"run_id": "an earlier run"}\n'  # the reject file is append-only across runs
    (tmp_path / "out" / "rejects.jsonl").write_text(earlier, encoding="utf-8")
    (tmp_path / "out" / "rejects.jsonl").chmod(0o644)

    result = run_cli("run", str(spec), "--reveal-pii", env=sandbox_env)

    assert result.returncode == 0, result.stderr
    (_, reject) = _rejects(tmp_path)
    assert reject["reason"] == "email: not a valid address: 'alice.chen@example'"
    assert stat.S_IMODE((tmp_path / "out" / "rejects.jsonl").stat().st_mode) == 0o600


def test_plan_masks_personal_data_unless_revealed(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """`omnisync plan` prints source rows, records and reasons: masked like the reject file."""
    spec = _write(tmp_path)

    masked = run_cli("plan", str(spec), env=sandbox_env)
    revealed = run_cli("plan", str(spec), "--reveal-pii", env=sandbox_env)

    assert masked.returncode == 0, masked.stderr
    for clear in ("alice.chen@example", "bob@example.com", "Alice Chen", "Bob Lin"):
        assert clear not in masked.stdout + masked.stderr
    assert "a***@example" in masked.stdout
    assert revealed.returncode == 0, revealed.stderr
    assert "alice.chen@example" in revealed.stdout
    assert "Alice Chen" in revealed.stdout


def test_plan_masks_a_name_whole_but_its_first_character(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """`Smith冠宇` was shown `Sm***冠宇`: the given name in full."""
    spec = _write(tmp_path)
    (tmp_path / "members.csv").write_text("id,name,email\nM1,Smith冠宇,s@example.com\n")

    masked = run_cli("plan", str(spec), env=sandbox_env)

    assert masked.returncode == 0, masked.stderr
    assert "S******" in masked.stdout
    assert "冠宇" not in masked.stdout + masked.stderr


def test_a_database_url_without_a_password_keeps_its_form_in_the_log(tmp_path: Path) -> None:
    """The log masks e-mail addresses; a URL's user looked like one: `postgresql:/***@127.0.0.1`."""
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        SPEC.replace(
            "{csv: {path: members.csv}}",
            '{sql: {url: "postgresql://omnisync@127.0.0.1:1/test", table: m, key: [id]}}',
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "SANDBOX_URL": "http://127.0.0.1:9", "OMNISEGMENT_TID": "OA-x"}
    env["OMNISEGMENT_API_KEY"] = "test-key-1234"

    result = run_cli("--log-format", "json", "run", str(spec), env=env)

    assert result.returncode == 1
    assert "postgresql://omnisync@127.0.0.1:1/test: connection failed" in result.stderr
    assert "postgresql:/*" not in result.stderr
