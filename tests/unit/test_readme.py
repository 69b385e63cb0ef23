"""The README's promises hold: its spec example is valid and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from engine.specfile import load_spec
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    (suite,) = [b for b in blocks if "pytest" in b]
    test_command = suite.strip().splitlines()[-1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()

    assert test_command == ".venv/bin/python -m pytest"
    assert ci_lines[-1] == test_command


def test_the_readme_spec_example_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", README, flags=re.S)
    assert example is not None
    spec = tmp_path / "sync.yaml"
    spec.write_text(example.group(1), encoding="utf-8")
    env = {"OMNISEGMENT_TID": "OA-1", "OMNISEGMENT_API_KEY": "key-1234"}

    loaded = load_spec(spec, environ=env)

    assert [s.name for s in loaded.syncs] == ["members"]
