"""`validate` opens each source it can and holds it against the spec: a file in another encoding,
a `rename:` of a header the file lacks, a batch_size past the endpoint's cap are located errors
(exit 2), and `run` refuses the same before anything is sent."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningSandbox, invoke_cli

SPEC = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id, name: name}
"""


def _spec(tmp_path: Path, text: str, csv: bytes) -> Path:
    (tmp_path / "members.csv").write_bytes(csv)
    spec = tmp_path / "sync.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_a_big5_file_read_as_utf8_is_an_error_at_the_source_naming_line_and_encoding(
    tmp_path: Path,
) -> None:
    csv = "id,name\nM1,Ann\nM2,王小明\nM3,陳大文\n".encode("big5")
    spec = _spec(tmp_path, SPEC, csv)

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines() == [
        f"{spec}:5:19 syncs[0].source.csv.encoding: members.csv: line 3 is not utf-8 text "
        "(column 4); the file reads cleanly as big5: set `encoding: big5` in the source block "
        "(or under defaults:)"
    ]
    fixed = _spec(
        tmp_path, SPEC.replace("path: members.csv", "path: members.csv, encoding: big5"), csv
    )
    assert invoke_cli("validate", str(fixed)).returncode == 0


def test_a_big5_header_is_named_too(tmp_path: Path) -> None:
    spec = _spec(tmp_path, SPEC, "id,name,備註\nM1,Ann,x\n".encode("big5"))

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 2
    assert "members.csv: the header is not utf-8 text (column 9)" in result.stderr
    assert "set `encoding: big5`" in result.stderr


def test_one_stray_byte_stays_a_rejected_row_not_a_spec_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path, SPEC, b"id,name\nM1,Ann\nM2,B\xffob\n")

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 0, result.stderr


def test_a_rename_of_a_missing_header_is_an_error_at_its_key(tmp_path: Path) -> None:
    text = SPEC.replace("{path: members.csv}", "{path: members.csv, rename: {nmae: name}}")
    spec = _spec(tmp_path, text, b"id,name\nM1,Ann\n")

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines() == [
        f"{spec}:5:48 syncs[0].source.csv.rename.nmae: members.csv: rename: the header has no "
        "column 'nmae' (did you mean 'name'?); its columns: id, name: rename a column the "
        "header has, or drop this line"
    ]


def test_run_refuses_a_wrong_encoding_before_sending_anything(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    text = SPEC.replace(
        "{environment: sandbox}",
        '{base_url: "${SANDBOX_URL}", tid: "${OMNISEGMENT_TID}", api_key: "${OMNISEGMENT_API_KEY}"}',
    )
    spec = _spec(tmp_path, text, "id,name\nM1,王小明\n".encode("big5"))

    result = invoke_cli("run", str(spec), env=sandbox_env)

    assert result.returncode == 2, result.stderr
    assert "set `encoding: big5`" in result.stderr
    assert sandbox.records("audience") == {}


def test_a_batch_size_past_the_endpoint_s_cap_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: purchases
    source: {csv: {path: members.csv}}
    destination: {endpoint: purchase}
    delivery: {batch_size: 500}
    mapping:
      transaction_id: id
      member_sn: id
      datetime: {const: "2024-05-01T10:00:00+08:00"}
      transaction_revenue: {const: 100}
"""
    spec = _spec(tmp_path, text, b"id,name\nT1,Ann\n")

    result = invoke_cli("validate", "--offline", str(spec))

    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines() == [
        f"{spec}:7:28 syncs[0].delivery.batch_size: 500 is more than purchase's batch route "
        "(/api/v2/purchase/batch-import/) takes in one request (50): set batch_size to 50 or "
        "less, or leave it out (the cap is the default)"
    ]
