"""The benchmarks still run: each script in its smallest form, against the sandbox it starts.

Their figures are read by people (no timed assertion here); this only keeps a script from
breaking unnoticed, as when a spec setting it used became out of range.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SMALL_FORMS = {
    "startup.py": (["--runs", "1", "--run-rows", "2000"], "2,000 rows: 2,000 delivered"),
    "delivery.py": (["-n", "2000"], "floor (csv.DictReader"),
    "change_detection.py": (["-n", "2000"], "unchanged rerun"),
    "in_source.py": (["--quick"], "rows read"),
    "ledger.py": (["-n", "2000"], "ledger share"),
    "field_slots.py": (["-n", "2000"], "field slots: x"),
    "multi.py": (["-n", "200"], "all three in one run"),
    "shared_budget.py": (
        ["--backend", "sqlite", "--seconds", "12", "--kill-after", "6"],
        "429s at the sandbox",
    ),
    "throttled.py": (["--scenario", "idle", "-n", "500"], "idle             500       500"),
    "huge_cells.py": (["--mb", "1"], "too long to be a number"),
    "record_check.py": (["--seconds", "0.01"], "audience_mapping"),
    "orchestrators.py": (["-n", "50", "--runs", "1"], "Dagster, through Pipes"),
}


@pytest.mark.parametrize("script", sorted(SMALL_FORMS))
def test_the_benchmark_runs_and_prints_its_figures(script: str) -> None:
    args, figure = SMALL_FORMS[script]
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert figure in done.stdout
    assert "exited" not in done.stdout  # a failed `omnisync run` inside the benchmark
