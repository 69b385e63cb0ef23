"""Change detection benchmark: a first run, an unchanged rerun and a rerun with 1% changed, for
100,000 and 1,000,000 rows.

    python bench/change_detection.py                 # 100k and 1M rows
    python bench/change_detection.py -n 50000        # one size

Each size, against a standalone `omnisync sandbox` (it keeps what it accepted, so change
detection is on, as in production): a run with `change_detection: false` that sends every row,
the first run with change detection (the default) that sends every row and stores its digests
(SQLite state), an unchanged rerun that should send nothing, a rerun after every hundredth row changed
that should send exactly those, and a `--dry-run` with change detection off: reading, mapping and
checking alone, the floor the unchanged rerun is compared with. `omnisync
run` is a subprocess against `omnisync sandbox` in another; CPU and peak RSS come from os.wait4
on the client alone. Printed: rows/s and peak RSS for each run, the first run's CPU over the run
without change detection, the rerun's CPU over the floor,
and the ratio of peak RSS between the sizes (flat memory: close to 1).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import OMNISYNC, Sandbox, write_rows

SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
state: {{backend: sqlite, path: "{state}"}}
syncs:
  - name: members
    source: {{csv: {{path: "{csv}"}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 10000/s}}
    change_detection: {detect}
    mapping: {{member_sn: id, name: name, email: email}}
"""


@dataclass
class Run:
    label: str
    rows: int
    seconds: float
    cpu: float
    rss_mb: float
    delivered: int
    unchanged: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


os.environ.setdefault("OMNISEGMENT_API_KEY", "sandbox-api-key")  # secrets never in specs


def run_client(spec: Path, report: Path, *args: str) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code) of one `omnisync run`."""
    started = time.perf_counter()
    command = [*OMNISYNC, "--log-level", "warning", "run", str(spec), "--report", str(report)]
    process = subprocess.Popen([*command, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def one(label: str, work: Path, url: str, rows: int, detect: bool, *args: str) -> Run:
    spec = work / (f"sync-{rows}.yaml" if detect else f"{label}.yaml")  # state is keyed by file
    spec.write_text(
        SPEC.format(
            url=url,
            state=work / f"state-{rows}.db",
            csv=work / f"members-{rows}.csv",
            detect="true" if detect else "false",
        )
    )
    report = work / f"{label}.json"
    seconds, cpu, rss, code = run_client(spec, report, *args)
    if code != 0:
        raise SystemExit(f"{label}: omnisync run exited {code}")
    sync = orjson.loads(report.read_bytes())["syncs"][0]
    return Run(label, rows, seconds, cpu, rss, sync["delivered"], sync.get("unchanged", 0))


def change_rows(path: Path, every: int) -> int:
    """Give every `every`-th row a new name; how many rows changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = 0
    for index in range(1, len(lines), every):
        key, name, rest = lines[index].split(",", 2)
        lines[index] = f"{key},{name} (moved),{rest}"
        changed += 1
    path.write_text("".join(lines), encoding="utf-8")
    return changed


def size(work: Path, rows: int) -> list[Run]:
    data = work / f"members-{rows}.csv"
    write_rows(data, rows)
    sandbox = Sandbox()
    try:
        print(f"{rows:,} rows ...", flush=True)
        plain = one(f"no-detect-{rows}", work, sandbox.url, rows, False)
        first = one(f"first-{rows}", work, sandbox.url, rows, True)
        rerun = one(f"rerun-{rows}", work, sandbox.url, rows, True)
        floor = one(f"floor-{rows}", work, sandbox.url, rows, False, "--dry-run")
        changed = change_rows(data, 100)
        moved = one(f"changed-{rows}", work, sandbox.url, rows, True)
    finally:
        sandbox.close()
    if rerun.delivered:
        print(f"  !! the unchanged rerun sent {rerun.delivered} records")
    print(f"  {rows:,} rows with {changed:,} changed: sent {moved.delivered:,}", flush=True)
    if moved.delivered != changed:
        print(f"  !! expected exactly {changed:,}")
    return [plain, first, rerun, floor, moved]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--rows", type=int, help="one size instead of 100k and 1M")
    args = parser.parse_args()
    sizes = (args.rows,) if args.rows else (100_000, 1_000_000)
    results: list[list[Run]] = []
    with tempfile.TemporaryDirectory(prefix="omnisync-bench-") as tmp:
        for rows in sizes:
            results.append(size(Path(tmp), rows))
    print()
    head = f"{'run':<16}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'CPU s':>8}{'peak RSS MB':>13}"
    head += f"{'sent':>10}{'unchanged':>11}"
    print(head)
    print("-" * len(head))
    for runs in results:
        for r in runs:
            print(
                f"{r.label:<16}{r.rows:>11,}{r.seconds:>9.1f}{r.rate:>10,.0f}{r.cpu:>8.1f}"
                f"{r.rss_mb:>13.1f}{r.delivered:>10,}{r.unchanged:>11,}"
            )
    print()
    for plain, first, rerun, floor, _ in results:
        print(
            f"{first.rows:>11,} rows: first run {first.cpu / plain.cpu:.2f}x the CPU "
            f"({first.seconds / plain.seconds:.2f}x the wall) of change_detection: false "
            f"(target <= 1.15x); unchanged rerun {rerun.cpu / floor.cpu:.2f}x the CPU of "
            f"reading+mapping alone (dry run, target <= 1.3x), {first.seconds / rerun.seconds:.1f}x "
            "faster than the first run"
        )
    if len(results) == 2:
        small, large = results
        for index, label in ((1, "first run"), (2, "unchanged rerun")):
            ratio = large[index].rss_mb / small[index].rss_mb
            print(f"peak RSS {label}, 1M / 100k rows: {ratio:.2f}")


if __name__ == "__main__":
    main()
