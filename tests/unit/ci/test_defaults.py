"""`defaults:` says a spec's encoding, delivery and reject settings once; each sync may override."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile import load_spec
from tests.conftest import invoke_cli

SPEC = """\
version: 1
omnisegment: {environment: sandbox}
defaults:
  encoding: big5
  delivery: {batch_size: 20, retry: {unavailable: {attempts: 2, interval: 60}}}
  max_reject_ratio: 0.1
  reject_file: out/{sync}-rejects.jsonl
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id, name: name}
  - name: members_utf8
    source: {csv: {path: members-utf8.csv, encoding: utf-8}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
    delivery: {batch_size: 5, retry: {unavailable: {attempts: 0}}}
    max_reject_ratio: 0
"""


def _write(tmp_path: Path, text: str = SPEC) -> Path:
    (tmp_path / "members.csv").write_bytes("id,name\nM1,王小明\n".encode("big5"))
    (tmp_path / "members-utf8.csv").write_text("id\nM2\n", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_syncs_inherit_the_defaults_and_keep_their_own_settings(tmp_path: Path) -> None:
    first, second = load_spec(_write(tmp_path)).syncs

    assert first.source["encoding"] == "big5"
    assert first.delivery.batch_size == 20
    assert first.delivery.retry == {"unavailable": {"attempts": 2, "interval": 60}}
    assert first.max_reject_ratio == 0.1
    assert first.reject_file == tmp_path / "out" / "members-rejects.jsonl"
    assert second.source["encoding"] == "utf-8"
    assert second.delivery.batch_size == 5
    assert second.delivery.retry == {"unavailable": {"attempts": 0, "interval": 60}}
    assert second.max_reject_ratio == 0


def test_the_inherited_encoding_reads_the_file(tmp_path: Path) -> None:
    result = invoke_cli("plan", str(_write(tmp_path)), "--select", "members", "--reveal-pii")

    assert result.returncode == 0, result.stderr
    assert '"name": "王小明"' in result.stdout


def test_an_encoding_no_sync_can_use_is_an_error(tmp_path: Path) -> None:
    text = SPEC.replace(
        "source: {csv: {path: members.csv}}", "source: {sql: {url: 'sqlite://', table: m}}"
    )
    text = text.replace(
        "source: {csv: {path: members-utf8.csv, encoding: utf-8}}",
        "source: {sql: {url: 'sqlite://', table: n}}",
    )

    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, text))

    assert caught.value.lines == [
        f"{tmp_path / 'spec.yaml'}:4:13 defaults.encoding: no sync's source reads text: "
        "nothing would use it"
    ]


def test_an_unknown_default_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, SPEC.replace("  encoding: big5\n", "  encodin: big5\n")))

    assert (
        "defaults.encodin: unknown key 'encodin' (did you mean 'encoding'?)"
        in (caught.value.lines[0])
    )
