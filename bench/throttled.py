"""At the API's ceiling, never over it: `omnisync run` against a sandbox that enforces a rate.

    python bench/throttled.py                          # every scenario
    python bench/throttled.py --scenario idle -n 30000
    python bench/throttled.py --scenario busy          # both cores kept busy by other processes
    python bench/throttled.py --scenario slow-server   # the server allows 2/s, the spec says 10/s

The sandbox admits at most N requests per route and tid in any sliding second, counted at arrival,
and reports the most requests that arrived in any one second. Client and sandbox are separate
processes (bench/delivery.py's helpers). The ceiling is 10 requests/s x 50 records = 500 records/s.
For `busy`, one spinning process per CPU competes with both for the whole run.

Figures: records/s (the report's, start-up excluded) as a share of the ceiling (target >= 97%),
429s (target 0), the busiest second at the sandbox (target <= 10); for slow-server, the sync's time
against the server-limited ideal (target <= 1.3x) and its 429s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import SPEC, Sandbox, run_client, write_rows

BATCH = 50
SPINNER = "while True: pass"


@dataclass
class Outcome:
    name: str
    rows: int
    server_rate: int
    wall: float
    sync_seconds: float
    sync_rate: float
    delivered: int
    statuses: dict[str, int]
    busiest: int | None

    @property
    def throttled(self) -> int:
        return self.statuses.get("429", 0)


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """`count` processes spinning for as long as the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.wait()


def sandbox_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as response:
        stats: dict[str, Any] = json.loads(response.read())
    return stats


def run(name: str, work: Path, rows: int, server_rate: int, spec_rate: int, busy: bool) -> Outcome:
    data = work / f"members-{rows}.csv"
    if not data.exists():
        write_rows(data, rows)
    sandbox = Sandbox("--rate-limit", str(server_rate))
    try:
        spec = work / f"{name}.yaml"
        delivery = f"{{rate_limit: {spec_rate}/s}}"
        spec.write_text(SPEC.format(url=sandbox.url, csv=data, delivery=delivery))
        report = work / f"{name}.json"
        if busy:
            with busy_cores(os.cpu_count() or 2):
                wall, _cpu, _rss, _code = run_client(spec, report)
        else:
            wall, _cpu, _rss, _code = run_client(spec, report)
        stats = sandbox_stats(sandbox.url)
    finally:
        sandbox.close()
    sync = orjson.loads(report.read_bytes())["syncs"][0]
    busiest = stats.get("busiest_second")  # {route#tid: most arrivals in any sliding second}
    return Outcome(
        name,
        rows,
        server_rate,
        wall,
        float(sync["elapsed_s"]),
        float(sync["records_per_s"]),
        int(sync["delivered"]),
        dict(sync["requests_by_status"]),
        max(busiest.values()) if busiest else None,
    )


def print_ceiling(outcome: Outcome) -> None:
    ceiling = outcome.server_rate * BATCH
    share = outcome.sync_rate / ceiling
    busiest = "n/a" if outcome.busiest is None else str(outcome.busiest)
    print(
        f"{outcome.name:<12}{outcome.rows:>8,}{outcome.delivered:>10,}{outcome.sync_seconds:>9.1f}"
        f"{outcome.sync_rate:>10.1f}{share:>9.1%}{outcome.throttled:>6}{busiest:>9}"
        f"   (wall {outcome.wall:.1f} s; statuses {outcome.statuses})"
    )


def print_server_limited(outcome: Outcome) -> None:
    requests = math.ceil(outcome.rows / BATCH)
    # A strict server at L/s takes L requests at once, then L more each second.
    ideal = max(requests - outcome.server_rate, 0) / outcome.server_rate
    ratio = outcome.sync_seconds / ideal if ideal else float("nan")
    busiest = "n/a" if outcome.busiest is None else str(outcome.busiest)
    print(
        f"{outcome.name:<12}{outcome.rows:>8,}{outcome.delivered:>10,}{outcome.sync_seconds:>9.1f}"
        f"{ideal:>9.1f}{ratio:>8.2f}x{outcome.throttled:>6}{busiest:>9}"
        f"   (wall {outcome.wall:.1f} s; statuses {outcome.statuses})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["all", "idle", "busy", "slow-server"], default="all")
    parser.add_argument("-n", "--rows", type=int, help="rows (default 30,000; 3,000 slow-server)")
    args = parser.parse_args()
    chosen = ["idle", "busy", "slow-server"] if args.scenario == "all" else [args.scenario]
    at_ceiling: list[Outcome] = []
    limited: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="omnisync-throttled-") as tmp:
        work = Path(tmp)
        for name in chosen:
            if name == "slow-server":
                rows = args.rows or 3_000
                print(f"{name}: server 2 requests/s, spec 10/s, {rows:,} rows ...", flush=True)
                limited.append(run(name, work, rows, 2, 10, busy=False))
            else:
                rows = args.rows or 30_000
                print(f"{name}: server and spec at 10 requests/s, {rows:,} rows ...", flush=True)
                at_ceiling.append(run(name, work, rows, 10, 10, busy=name == "busy"))
    if at_ceiling:
        print()
        print(
            f"{'scenario':<12}{'rows':>8}{'delivered':>10}{'sync s':>9}{'rec/s':>10}"
            f"{'ceiling':>9}{'429s':>6}{'busiest':>9}"
        )
        for outcome in at_ceiling:
            print_ceiling(outcome)
        print("targets: >= 97% of the ceiling, 0 429s, busiest second <= 10 (at the sandbox)")
    if limited:
        print()
        print(
            f"{'scenario':<12}{'rows':>8}{'delivered':>10}{'sync s':>9}{'ideal s':>9}"
            f"{'ratio':>9}{'429s':>6}{'busiest':>9}"
        )
        for outcome in limited:
            print_server_limited(outcome)
        print("target: <= 1.3x the server-limited ideal")


if __name__ == "__main__":
    main()
