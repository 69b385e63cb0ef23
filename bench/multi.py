"""Concurrent syncs: three syncs on three endpoints at 10 requests/s each take as long as the slowest.

    python bench/multi.py                  # 10,000 members, 10,000 orders, 10,000 vouchers
    python bench/multi.py -n 30000

The sandbox (its own process) admits 10 requests/s per route. Each sync is first run alone
(`--select`), then all three in one `omnisync run`. Audience and purchase send 50 records a
request, vouchers 100: the vouchers sync is the short one. Figures: each sync's time alone, the
sum (what running them one after the other costs), the run of all three, and its ratio to the
slowest sync alone (target <= 1.1x).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import Sandbox, run_client, write_rows

SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
syncs:
  - name: members
    source: {{csv: {{path: "{work}/members.csv"}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 10/s}}
    mapping: {{member_sn: id, name: name, email: email}}
  - name: orders
    source: {{csv: {{path: "{work}/orders.csv"}}}}
    destination: {{endpoint: purchase, options: {{is_anonymous: false}}}}
    delivery: {{rate_limit: 10/s}}
    mapping:
      transaction_id: order_id
      member_sn: member
      datetime: ordered_at
      transaction_status: {{const: SUCCESS}}
      products: products
      transaction_revenue: {{const: 1280.5}}
  - name: vouchers
    source: {{csv: {{path: "{work}/vouchers.csv"}}}}
    destination: {{endpoint: gift_voucher}}
    delivery: {{rate_limit: 10/s}}
    mapping:
      voucher_id: voucher_id
      member_sn: member
      voucher_type: {{const: welcome}}
      valid_from: {{const: "2024-05-01"}}
      valid_util: {{const: "2025-05-01"}}
      amount: {{const: 100}}
      is_redeemed: {{const: false}}
"""
SYNCS = ("members", "orders", "vouchers")

os.environ.setdefault("OMNISEGMENT_API_KEY", "sandbox-api-key")  # secrets never in specs


def write_inputs(work: Path, rows: int) -> None:
    write_rows(work / "members.csv", rows)
    with (work / "orders.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "member", "ordered_at", "products"])
        for i in range(rows):
            writer.writerow([f"T{i:08d}", f"M{i:08d}", "2024-07-15T09:51:23+08:00", "P001,P002"])
    with (work / "vouchers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["voucher_id", "member"])
        for i in range(rows):
            writer.writerow([f"V{i:08d}", f"M{i:08d}"])


def timed_run(work: Path, name: str, select: tuple[str, ...]) -> tuple[float, dict[str, float]]:
    """(wall seconds of the run, elapsed seconds per sync from its report)."""
    sandbox = Sandbox("--rate-limit", "10")
    try:
        spec = work / f"{name}.yaml"
        spec.write_text(SPEC.format(url=sandbox.url, work=work))
        report = work / f"{name}.json"
        extra = [arg for sync in select for arg in ("--select", sync)]
        started = time.perf_counter()
        run_client(spec, report, *extra)
        wall = time.perf_counter() - started
    finally:
        sandbox.close()
    syncs = orjson.loads(report.read_bytes())["syncs"]
    for sync in syncs:
        if sync["delivered"] != sync["rows_read"] or sync["requests_by_status"].get("429"):
            print(f"  !! {sync['sync']}: {sync}")
    return wall, {sync["sync"]: float(sync["elapsed_s"]) for sync in syncs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--rows", type=int, default=10_000, help="rows per sync")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omnisync-multi-") as tmp:
        work = Path(tmp)
        write_inputs(work, args.rows)
        alone: dict[str, float] = {}
        alone_wall: dict[str, float] = {}
        for sync in SYNCS:
            print(f"{sync} alone, {args.rows:,} rows ...", flush=True)
            wall, elapsed = timed_run(work, sync, (sync,))
            alone[sync], alone_wall[sync] = elapsed[sync], wall
        print(f"all three in one run, {args.rows:,} rows each ...", flush=True)
        together_wall, together = timed_run(work, "all", ())
    slowest = max(alone, key=lambda name: alone[name])
    span = max(together.values())  # the run's syncs overlap: the longest one bounds the run
    print()
    print(f"{'sync':<10}{'alone s':>9}{'in the run s':>14}")
    for sync in SYNCS:
        print(f"{sync:<10}{alone[sync]:>9.1f}{together.get(sync, float('nan')):>14.1f}")
    print(f"\nsum of the syncs alone (one after the other): {sum(alone.values()):.1f} s")
    print(
        f"all three in one run: {together_wall:.1f} s wall (slowest alone: {slowest}, "
        f"{alone_wall[slowest]:.1f} s wall) -> {together_wall / alone_wall[slowest]:.2f}x"
        "  (target <= 1.1x)"
    )
    print(
        f"sync time: longest in the run {span:.1f} s vs {slowest} alone {alone[slowest]:.1f} s"
        f" -> {span / alone[slowest]:.2f}x"
    )


if __name__ == "__main__":
    main()
