"""`depends_on`: an unknown name or a cycle is a spec error naming file, line and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile import load_spec
from tests.conftest import ROOT, run_cli

INVALID = ROOT / "tests" / "specs" / "invalid"


def _lines(name: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(INVALID / name)
    return caught.value.lines


def test_an_unknown_name_is_an_error_at_its_line_with_a_suggestion() -> None:
    (line,) = _lines("depends_on_unknown.yaml")
    assert line.endswith(
        "depends_on_unknown.yaml:9:18 syncs[1].depends_on[0]: no sync named 'memebrs' "
        "(did you mean 'members'?)"
    )


def test_a_cycle_is_an_error_naming_the_loop() -> None:
    (line,) = _lines("depends_on_cycle.yaml")
    assert "depends_on_cycle.yaml:" in line
    assert "depends_on makes a cycle: " in line
    loop = line.split("cycle: ")[1].split(" -> ")
    assert loop[0] == loop[-1]
    assert set(loop) == {"members", "orders", "vouchers"}


def test_a_sync_depending_on_itself_is_a_cycle(tmp_path: Path) -> None:
    spec = tmp_path / "self.yaml"
    spec.write_text(
        "version: 1\n"
        "omnisegment: {environment: sandbox}\n"
        "syncs:\n"
        "  - name: members\n"
        "    depends_on: [members]\n"
        "    source: {csv: {path: members.csv}}\n"
        "    destination: {endpoint: audience}\n"
        "    mapping: {member_sn: id}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert caught.value.lines == [
        f"{spec}:5:18 syncs[0].depends_on[0]: depends_on makes a cycle: members -> members"
    ]


def test_depends_on_is_kept_on_the_sync(tmp_path: Path) -> None:
    spec = tmp_path / "ok.yaml"
    spec.write_text((INVALID / "depends_on_unknown.yaml").read_text().replace("memebrs", "members"))
    loaded = load_spec(spec)
    assert [s.depends_on for s in loaded.syncs] == [(), ("members",)]


def test_validate_exits_2_on_a_cycle_without_a_traceback() -> None:
    result = run_cli("validate", "depends_on_cycle.yaml", cwd=INVALID)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "depends_on makes a cycle" in result.stderr
