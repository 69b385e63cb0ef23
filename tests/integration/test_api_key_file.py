"""`api_key_file:` beside the environment: the key read from a mounted secret, never echoed."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TEST_API_KEY, TEST_TID, RunningSandbox, run_cli
from tests.integration.test_fault_suite import files_text, leaks
from tests.sandbox_specs import members, write_rows

SPEC = """\
version: 1
omnisegment:
  base_url: ${{SANDBOX_URL}}
  tid: {tid}
  {key}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    mapping: {{member_sn: id, name: name}}
"""


def _spec(tmp_path: Path, key_line: str) -> Path:
    write_rows(tmp_path / "members.csv", members(30))
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC.format(tid=TEST_TID, key=key_line), encoding="utf-8")
    return spec


def test_the_key_is_read_from_its_file_and_redacted(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    secret = tmp_path / "secrets" / "omnisegment"
    secret.parent.mkdir()
    secret.write_text(TEST_API_KEY + "\n", encoding="utf-8")
    spec = _spec(tmp_path, f"api_key_file: {secret}")
    env = {k: v for k, v in sandbox_env.items() if k != "OMNISEGMENT_API_KEY"}

    result = run_cli("--log-level", "debug", "run", str(spec), env=env)

    assert result.returncode == 0, result.stderr
    assert len(sandbox.records("audience")) == 30
    written = files_text(tmp_path / ".omnisync")  # state and reject files; not the secret's own
    assert not leaks([result.stdout, result.stderr, written], TEST_API_KEY)


def test_a_file_that_is_not_a_key_is_a_located_error_without_its_content(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    not_a_key = tmp_path / "passwd"
    not_a_key.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1\n", encoding="utf-8")
    spec = _spec(tmp_path, f"api_key_file: {not_a_key}")

    result = run_cli("validate", str(spec), env=sandbox_env)

    assert result.returncode == 2
    assert "sync.yaml:" in result.stderr
    assert "omnisegment.api_key_file" in result.stderr
    assert "root:x" not in result.stderr


def test_a_missing_key_file_is_a_spec_error(tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    spec = _spec(tmp_path, f"api_key_file: {tmp_path / 'nowhere'}")

    result = run_cli("validate", str(spec), env=sandbox_env)

    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_api_key_and_api_key_file_together_are_refused(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    secret = tmp_path / "key"
    secret.write_text("k-0123456789", encoding="utf-8")
    spec = _spec(tmp_path, f"api_key_file: {secret}\n  api_key: ${{OMNISEGMENT_API_KEY}}")

    result = run_cli("validate", str(spec), env=sandbox_env)

    assert result.returncode == 2
    assert "omnisegment: give api_key or api_key_file, not both" in result.stderr
