"""Delivery benchmark: `omnisync run` end to end against a sandbox in its own process.

    python bench/delivery.py                          # every scenario, default sizes
    python bench/delivery.py --scenario unlimited -n 200000
    python bench/delivery.py --scenario limited -n 30000   # 60 s at 10 requests/s
    python bench/delivery.py --scenario rss            # peak RSS for 100k and 1M rows
    python bench/delivery.py --scenario faults -n 20000

Client and sandbox never share an event loop: the sandbox is `omnisync sandbox --port 0`, the
client is `omnisync run` as a subprocess, and the client's CPU time and peak RSS come from
os.wait4 on that process alone. The floor is what no sync can avoid: csv.DictReader plus orjson
encoding of the same batches, no network, measured in this process.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

OMNISYNC = [sys.executable, "-c", "from engine.cli import main; main()"]
BATCH = 50
SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
syncs:
  - name: members
    source: {{csv: {{path: "{csv}"}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {delivery}
    mapping: {{member_sn: id, name: name, email: email}}
"""


@dataclass
class Figures:
    scenario: str
    rows: int
    seconds: float
    cpu: float
    rss_mb: float
    sandbox_cpu: float
    sync_rate: float  # the report's records/s: the sync alone, start-up excluded
    delivered: int
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


def write_rows(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email"])
        for i in range(count):
            writer.writerow([f"M{i:08d}", f"會員{i}", f"user{i}@example.com"])


class Sandbox:
    """`omnisync sandbox --port 0 ...` as a child process; its URL read from its first line."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [*OMNISYNC, "sandbox", "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"http://[0-9.]+:[0-9]+", first)
        if match is None:
            self.close()
            raise SystemExit(f"the sandbox did not start: {first!r}")
        self.url = match.group(0)

    def close(self) -> float:
        """Stops the sandbox; returns the CPU seconds it used."""
        self.process.terminate()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return usage.ru_utime + usage.ru_stime


def run_client(spec: Path, report: Path, *extra: str) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code) of one `omnisync run`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [*OMNISYNC, "--log-level", "warning", "run", str(spec), "--report", str(report), *extra],
        env={**os.environ, "OMNISEGMENT_API_KEY": "sandbox-api-key"},  # secrets never in specs
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode != 0:
        print(f"  omnisync run exited {process.returncode}: {errors.strip()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def scenario(
    name: str, work: Path, rows: int, sandbox_options: list[str], delivery: str
) -> Figures:
    data = work / f"members-{rows}.csv"
    if not data.exists():
        write_rows(data, rows)
    sandbox = Sandbox(*sandbox_options)
    try:
        spec = work / f"{name}.yaml"
        spec.write_text(SPEC.format(url=sandbox.url, csv=data, delivery=delivery))
        report = work / f"{name}.json"
        seconds, cpu, rss, code = run_client(spec, report)
    finally:
        sandbox_cpu = sandbox.close()
    if not report.exists():
        raise SystemExit(f"{name}: omnisync run exited {code} without a report")
    sync = orjson.loads(report.read_bytes())["syncs"][0]
    counted = sync["delivered"] + sync["rejected"] + sync["filtered"] + sync["failed"]
    if counted + sync["unsent"] != sync["rows_read"]:
        print(f"  !! report does not add up: {sync}")
    return Figures(
        name,
        rows,
        seconds,
        cpu,
        rss,
        sandbox_cpu,
        sync["records_per_s"],
        sync["delivered"],
        sync["requests_by_status"],
    )


def floor(work: Path, rows: int) -> float:
    """CPU seconds of csv.DictReader + orjson encoding of the same batches, no network."""
    data = work / f"members-{rows}.csv"
    if not data.exists():
        write_rows(data, rows)
    envelope = {"tid": "OA-sandbox", "api_key": "sandbox-api-key", "merge_key": "member_sn"}
    started = time.process_time()
    with data.open(newline="", encoding="utf-8") as handle:
        batch: list[dict[str, str]] = []
        for row in csv.DictReader(handle):
            batch.append({"member_sn": row["id"], "name": row["name"], "email": row["email"]})
            if len(batch) == BATCH:
                orjson.dumps({**envelope, "data": batch})
                batch = []
        if batch:
            orjson.dumps({**envelope, "data": batch})
    return time.process_time() - started


def table(results: list[Figures], floor_per_1000: float | None) -> None:
    print()
    head = f"{'scenario':<14}{'rows':>10}{'seconds':>9}{'records/s':>11}{'sync rec/s':>12}"
    head += f"{'CPU s/1k':>10}"
    head += f"{'x floor':>9}{'peak RSS MB':>13}{'sandbox CPU s':>15}  requests by status"
    print(head)
    print("-" * len(head))
    for r in results:
        per_1000 = r.cpu / r.rows * 1000
        ratio = f"{per_1000 / floor_per_1000:.1f}" if floor_per_1000 else "-"
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items()))
        print(
            f"{r.scenario:<14}{r.rows:>10,}{r.seconds:>9.1f}{r.rate:>11,.0f}{r.sync_rate:>12,.0f}"
            f"{per_1000:>10.3f}"
            f"{ratio:>9}{r.rss_mb:>13.1f}{r.sandbox_cpu:>15.1f}  {statuses}"
        )
    if floor_per_1000:
        print(
            f"\nfloor (csv.DictReader + orjson batches, no network): {floor_per_1000:.3f} CPU s/1k"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenario",
        choices=["all", "unlimited", "limited", "rss", "faults"],
        default="all",
    )
    parser.add_argument("-n", "--rows", type=int, help="rows (default depends on the scenario)")
    parser.add_argument("--concurrency", type=int, help="delivery.concurrency for the client")
    args = parser.parse_args()
    chosen = (
        ["unlimited", "limited", "rss", "faults"] if args.scenario == "all" else [args.scenario]
    )
    extra = f", concurrency: {args.concurrency}" if args.concurrency else ""
    results: list[Figures] = []
    floor_per_1000: float | None = None
    with tempfile.TemporaryDirectory(prefix="omnisync-bench-") as tmp:
        work = Path(tmp)
        for name in chosen:
            if name == "unlimited":
                rows = args.rows or 200_000
                print(f"unlimited sandbox, {rows:,} rows ...", flush=True)
                results.append(scenario(name, work, rows, [], f"{{rate_limit: 10000/s{extra}}}"))
                floor_per_1000 = floor(work, rows) / rows * 1000
            elif name == "limited":
                rows = args.rows or 30_000
                print(f"sandbox at 10 requests/s, {rows:,} rows ...", flush=True)
                results.append(
                    scenario(
                        name, work, rows, ["--rate-limit", "10"], f"{{rate_limit: 10/s{extra}}}"
                    )
                )
            elif name == "rss":
                for rows in (100_000, 1_000_000) if not args.rows else (args.rows,):
                    print(f"peak RSS, {rows:,} rows ...", flush=True)
                    results.append(
                        scenario(
                            f"rss-{rows // 1000}k",
                            work,
                            rows,
                            [],
                            f"{{rate_limit: 10000/s{extra}}}",
                        )
                    )
            elif name == "faults":
                rows = args.rows or 20_000
                print(f"10% 502/503/504 and 2% resets, {rows:,} rows ...", flush=True)
                retry = (
                    "{unavailable: {interval: 0.05, attempts: 8},"
                    " transient: {interval: 0.05, attempts: 8}}"
                )
                delivery = f"{{rate_limit: 10000/s, retry: {retry}{extra}}}"
                results.append(
                    scenario(
                        name,
                        work,
                        rows,
                        ["--fail-ratio", "0.1", "--reset-ratio", "0.02", "--seed", "7"],
                        delivery,
                    )
                )
    table(results, floor_per_1000)


if __name__ == "__main__":
    main()
