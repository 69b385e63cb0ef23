"""Hostile specs: every one is refused with exit 2 and a located message, under a 512 MB limit.

The corpus is tests/specs/hostile/*.yaml (the first line of each names a fragment of the expected
message) plus a few files too big to keep in git, written here. Timings are printed, not asserted.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT

HOSTILE = ROOT / "tests" / "specs" / "hostile"
MEMORY_LIMIT = 512 * 1024 * 1024
_MARKER = re.compile(rb"^# refused: (.+)$", re.MULTILINE)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _generated(directory: Path) -> dict[Path, str]:
    """The big ones: 30 MB of comments, a million-item list, 300,000 unknown keys, a 2 MB value."""
    head = "version: 1\nomnisegment: {environment: sandbox}\n"
    files: dict[Path, Callable[[], str]] = {
        directory / "comments_30mb.yaml": lambda: head + "# padding\n" * 3_000_000 + "syncs: []\n",
        directory / "million_item_list.yaml": lambda: head + "syncs:\n" + "- 1\n" * 1_000_000,
        directory / "unknown_keys_300k.yaml": lambda: (
            head + "".join(f"k{i}: 1\n" for i in range(300_000)) + "syncs: []\n"
        ),
        directory / "long_scalar_2mb.yaml": lambda: head + "x: " + "a" * 2_000_000 + "\n",
        directory / "nodes_past_budget.yaml": lambda: head + "syncs: [" + "1," * 60_000 + "1]\n",
        directory / "keys_past_budget.yaml": lambda: (
            head + "x: {" + ", ".join(f"k{i}: 1" for i in range(30_000)) + "}\nsyncs: []\n"
        ),
    }
    expected: dict[Path, str] = {}
    for path, make in files.items():
        path.write_text(make(), encoding="utf-8")
        expected[path] = "larger than" if path.stat().st_size > 1 << 20 else "grows past"
    return expected


def _corpus(tmp_path: Path) -> dict[Path, str]:
    expected = {}
    for path in sorted(HOSTILE.glob("*.yaml")):
        marker = _MARKER.search(path.read_bytes()[:4096])
        assert marker, f"{path.name}: the first line must say '# refused: <message fragment>'"
        expected[path] = marker.group(1).decode("utf-8")
    expected.update(_generated(tmp_path))
    return expected


def _run_driver(files: list[Path]) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.unit.specfile.hostile_driver", *map(str, files)],
        cwd=ROOT,
        env={**os.environ, "OMNISEGMENT_API_KEY": "canary-key-0000"},
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def _check(outcome: dict[str, object], fragment: str) -> list[str]:
    name = Path(str(outcome["file"])).name
    stderr = str(outcome["stderr"])
    problems = []
    if outcome["exit"] != 2:
        problems.append(f"{name}: exit {outcome['exit']!r}, not 2: {stderr[:300]}")
    if not re.match(rf"^\S*{re.escape(name)}:\d+:\d+", stderr):
        problems.append(f"{name}: no file:line:column at the start: {stderr[:300]}")
    if fragment not in stderr:
        problems.append(f"{name}: {fragment!r} not in: {stderr[:300]}")
    if "Traceback" in stderr or "internal error" in stderr:
        problems.append(f"{name}: an internal error escaped: {stderr[:300]}")
    return problems


def _report(outcomes: list[dict[str, object]]) -> None:
    slowest = sorted(outcomes, key=lambda o: float(str(o["cpu_s"])), reverse=True)[:5]
    print(f"\nhostile specs tried: {len(outcomes)}, all under a {MEMORY_LIMIT >> 20} MB limit")
    peak = max(float(str(o["peak_rss_mb"])) for o in outcomes)
    print(f"peak RSS of the validating process: {peak:.0f} MB")
    for o in slowest:
        print(f"  {Path(str(o['file'])).name}: {o['cpu_s']} s CPU, {o['wall_s']} s wall")


def test_every_hostile_spec_is_refused_located_and_bounded(tmp_path: Path) -> None:
    expected = _corpus(tmp_path)
    assert len(expected) >= 60

    outcomes = _run_driver(list(expected))

    _report(outcomes)
    assert len(outcomes) == len(expected)
    problems = [p for o in outcomes for p in _check(o, expected[Path(str(o["file"]))])]
    assert not problems, "\n".join(problems)


@pytest.mark.long
def test_every_hostile_spec_is_refused_by_its_own_process(tmp_path: Path) -> None:
    """The full form: one `omnisync validate` process per spec, each under the memory limit."""
    expected = _corpus(tmp_path)
    problems, tried = [], 0
    for path, fragment in expected.items():
        outcome = _run_driver([path])[-1]
        tried += 1
        problems += _check(outcome, fragment)
    print(f"\nhostile specs tried one process each: {tried}")
    assert not problems, "\n".join(problems)
