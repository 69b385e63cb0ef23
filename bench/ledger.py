"""Ledger benchmark: what run history and the record ledger cost a run, with and without them.

    python bench/ledger.py                 # 1,000,000 rows
    python bench/ledger.py -n 100000       # another size

For each setting (`state: {history: {keep: 0}}`: no ledger; the default: the ledger on), a first
run that sends every row and an unchanged rerun (a clean full read: it also looks for records
that left the source), each `omnisync run` a subprocess against `omnisync sandbox` in another,
with SQLite state beside the spec. CPU and peak RSS come from os.wait4 on the client alone.
Printed: CPU and peak RSS for each run, and the ledger's share of each run's CPU (the issue's
bound is 10% at 1,000,000 rows). On a busy machine the difference of two runs' CPU is noisy, so
the ledger's own work is also measured alone, in this process: the same records through
SyncLedger into a SQLite store (a first run delivering all, then an unchanged full read with its
check for records that left the source), as a share of the measured runs' CPU.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from change_detection import run_client
from delivery import Sandbox, write_rows

from engine.rows import Record
from engine.state.base import StateContext
from engine.state.change_detection import key_hash, payload_digest
from engine.state.ledger import RunRecord, SyncLedger, ledger_of
from engine.state.sqlite import SqliteStateStore

SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
state: {{backend: sqlite, path: "{state}"{history}}}
syncs:
  - name: members
    source: {{csv: {{path: "{csv}"}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 10000/s}}
    mapping: {{member_sn: id, name: name, email: email}}
"""

os.environ.setdefault("OMNISEGMENT_API_KEY", "sandbox-api-key")  # secrets never in specs


def one(work: Path, url: str, rows: int, ledger: bool, label: str) -> tuple[float, float, int]:
    """(CPU s, peak RSS MB, rows read) of one run."""
    name = "on" if ledger else "off"
    spec = work / f"sync-{name}.yaml"
    spec.write_text(
        SPEC.format(
            url=url,
            state=work / f"state-{name}.db",
            csv=work / f"members-{rows}.csv",
            history="" if ledger else ", history: {keep: 0}",
        )
    )
    report = work / f"{label}-{name}.json"
    _, cpu, rss, code = run_client(spec, report)
    if code != 0:
        raise SystemExit(f"{label} ({name}): omnisync run exited {code}")
    return cpu, rss, orjson.loads(report.read_bytes())["syncs"][0]["rows_read"]


def ledger_size(work: Path) -> int:
    with sqlite3.connect(work / "state-on.db") as db:
        (size,) = db.execute("SELECT coalesce(sum(length(body)), 0) FROM history_bulk").fetchone()
    return int(size)


def alone(work: Path, rows: int) -> tuple[float, float]:
    """CPU seconds of the ledger's own work: (first run, unchanged full read)."""
    store = SqliteStateStore({"path": str(work / "alone.db")}, StateContext(work))
    ledger = ledger_of(store)
    assert ledger is not None
    space = b"s" * 32
    records = []
    for i in range(rows):
        record = Record({"member_sn": f"M{i:07d}"}, (i,), i)
        record.mark = (key_hash(space, f"M{i:07d}"), payload_digest(space, {"i": i}))
        records.append(record)
    spent = []
    for run_id, action, size in (("first", "delivered", 100), ("rerun", "unchanged", 1000)):
        ledger.begin_run(RunRecord(run_id, "sync.yaml", run_id))
        recorder = SyncLedger(ledger, run_id, "sync.yaml:members", space, str, track_seen=True)
        started = time.process_time()
        for start in range(0, rows, size):
            recorder.records(action, records[start : start + size])
        recorder.removed(["first"] if run_id == "rerun" else [])
        spent.append(time.process_time() - started)
    store.close()
    return spent[0], spent[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    figures: dict[tuple[str, bool], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="omnisync-bench-") as tmp:
        work = Path(tmp)
        write_rows(work / f"members-{rows}.csv", rows)
        sandbox = Sandbox()
        try:
            for ledger in (False, True):
                sandbox.close()
                sandbox = Sandbox()  # each setting sends its first run to an empty sandbox
                for label in ("first run", "unchanged rerun"):
                    print(f"{rows:,} rows, {label}, ledger {'on' if ledger else 'off'} ...")
                    cpu, rss, read = one(work, sandbox.url, rows, ledger, label.split()[0])
                    assert read == rows, read
                    figures[label, ledger] = (cpu, rss)
        finally:
            sandbox.close()
        stored = ledger_size(work)
        own = dict(zip(("first run", "unchanged rerun"), alone(work, rows), strict=True))
    print()
    head = f"{'run':<18}{'rows':>11}{'CPU off':>9}{'CPU on':>9}{'ledger share':>14}{'RSS off':>9}"
    head += f"{'RSS on':>8}"
    print(head)
    print("-" * len(head))
    for label in ("first run", "unchanged rerun"):
        (off, rss_off), (on, rss_on) = figures[label, False], figures[label, True]
        share = (on - off) / on * 100 if on else 0.0
        print(
            f"{label:<18}{rows:>11,}{off:>9.1f}{on:>9.1f}{share:>13.1f}%{rss_off:>9.0f}"
            f"{rss_on:>8.0f}"
        )
    print(f"\nledger bulk bytes after both runs: {stored:,} ({stored / rows / 2:.0f} bytes a row)")
    for label, seconds in own.items():
        share = seconds / figures[label, True][0] * 100
        print(f"ledger work alone, {label}: {seconds:.2f} s CPU, {share:.1f}% of the run's CPU")


if __name__ == "__main__":
    main()
