"""One rate budget across processes: three `omnisync run`s on one account share its 10 requests/s.

    python bench/shared_budget.py                              # PostgreSQL and S3 (moto), 100 s
    python bench/shared_budget.py --backend postgres --seconds 150 --kill-after 120
    python bench/shared_budget.py --backend sqlite --seconds 12 --kill-after 6   # the smoke form

A standalone sandbox admits 10 requests in any sliding second per route and tid, counted at
arrival (`omnisync sandbox --rate-limit 10`). Three processes run three specs (three CSV files, one
state store, one account) at the same time, each with more rows than it can send. Once all three
have their share, the sandbox's accepted requests are counted for a while; then one process is
killed (SIGKILL: no goodbye, its member record stays until its lease runs out) and the other two
go on until the end, when they are stopped (SIGTERM) and report.

Figures: 429s (target 0); the three together as a share of the ceiling (target >= 95%); each
one's share of what was accepted against a fair third (target within 10%), counted over one
whole turn of the remainder (10 requests for 3 processes are shares of 4, 3 and 3, and the 4
moves to the next process every 20 s: fair over 60 s, never within one second); after the kill, the
seconds until the other two together keep >= 95% over 3 s, against the lease (10 s), and their
share of the ceiling from the lease's end to the end of the run (target >= 95%).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import OMNISYNC, Sandbox

from engine.state.budget import ROTATION

RATE = 10  # requests per second the sandbox admits
LEASE = 10.0  # a member's lease (engine/state/budget.py)
PG_URL = os.environ.get("OMNISYNC_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
state: {state}
syncs:
  - name: members
    source: {{csv: {{path: "{csv}"}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: {rate}/s}}
    mapping: {{member_sn: id, name: name, email: email}}
"""


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def accepted(sandbox: str) -> int:
    requests = get(f"{sandbox}/_sandbox/stats")["requests"]
    return sum(n for key, n in requests.items() if key.endswith(" 200"))


def statuses(sandbox: str) -> Counter[str]:
    requests = get(f"{sandbox}/_sandbox/stats")["requests"]
    return Counter({key.rsplit(" ", 1)[1]: n for key, n in requests.items()})


def per_process(sandbox: str) -> Counter[str]:
    """Records accepted so far, by the process whose rows they are (the key's prefix)."""
    return Counter(key[:2] for key in get(f"{sandbox}/_sandbox/records/audience"))


def write_rows(path: Path, prefix: str, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,name,email\n")
        for i in range(count):
            handle.write(f"{prefix}{i:08d},member {i},m{i}@example.com\n")


@contextmanager
def state_store(backend: str, work: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(the spec's state block, environment) for one store, removed afterwards."""
    unique = uuid.uuid4().hex[:10]
    if backend == "sqlite":
        yield f'{{backend: sqlite, path: "{work / "state.db"}", shared_budget: true}}', {}
    elif backend == "postgres":
        table = f"bench_budget_{unique}"
        try:
            yield (
                f'{{backend: postgres, url: "${{STATE_DB}}", table: {table}}}',
                {"STATE_DB": PG_URL},
            )
        finally:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as db:
                for name in (table, f"{table}_digests", f"{table}_budgets"):
                    db.execute(f'DROP TABLE IF EXISTS "{name}"')
    else:  # moto in a process of its own, as a real store would be: not on this one's GIL
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        env = {"AWS_ACCESS_KEY_ID": "AKIABENCH0000000001", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
        try:
            create_bucket(url, env, f"bench-{unique}")
            yield (
                f'{{backend: s3, url: "s3://bench-{unique}/state", endpoint_url: "{url}",'
                " region: us-east-1}",
                env,
            )
        finally:
            server.terminate()
            server.wait()


def create_bucket(url: str, env: dict[str, str], bucket: str) -> None:
    import boto3

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    for _ in range(100):  # the server is starting
        try:
            client.create_bucket(Bucket=bucket)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit("the moto server did not start")


def start(spec: Path, report: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*OMNISYNC, "--log-level", "warning", "run", str(spec), "--report", str(report)],
        env={**os.environ, **env, "OMNISEGMENT_API_KEY": "sandbox-api-key"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def rate_between(samples: list[tuple[float, int]], start: float, end: float) -> float:
    """Accepted requests per second between two times, from (time, accepted) samples."""
    inside = [(t, n) for t, n in samples if start <= t <= end]
    if len(inside) < 2:
        return 0.0
    (t0, n0), (t1, n1) = inside[0], inside[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def recovered_after(samples: list[tuple[float, int]], kill: float, end: float) -> float | None:
    """Seconds from the kill until the accepted rate over 3 s first reaches 95% of the ceiling."""
    for t, _ in samples:
        if t >= kill and t + 3.0 <= end and rate_between(samples, t, t + 3.0) >= 0.95 * RATE:
            return t - kill
    return None


def bench(backend: str, seconds: float, kill_after: float, processes: int) -> bool:
    """One backend's run; True when every target was met."""
    print(f"{backend}: {processes} processes, {seconds:g} s, one killed at {kill_after:g} s ...")
    sandbox = Sandbox("--rate-limit", str(RATE))
    with tempfile.TemporaryDirectory(prefix="omnisync-budget-") as tmp:
        work = Path(tmp)
        with state_store(backend, work) as (state, env):
            running = []
            for i in range(processes):
                csv = work / f"p{i}.csv"
                write_rows(csv, f"P{i}", int(seconds * RATE * 50) + 1000)
                spec = work / f"p{i}.yaml"
                spec.write_text(SPEC.format(url=sandbox.url, state=state, csv=csv, rate=RATE))
                running.append(start(spec, work / f"p{i}.json", env))
            try:
                return measure(sandbox.url, running, seconds, kill_after, work)
            finally:
                for process in running:
                    if process.poll() is None:
                        process.kill()
                    process.wait()
                    assert process.stderr is not None
                    process.stderr.close()
                sandbox.close()


def measure(
    sandbox: str,
    running: list[subprocess.Popen[bytes]],
    seconds: float,
    kill_after: float,
    work: Path,
) -> bool:
    began = time.monotonic()
    samples: list[tuple[float, int]] = []
    # the shares are counted over the last whole turn of the remainder before the kill, once
    # every process has joined and has its share (a short smoke run: its last two thirds)
    turn = len(running) * ROTATION
    settled = kill_after - turn if kill_after - turn >= 8 else kill_after / 3
    counts: dict[str, Counter[str]] = {}
    killed = False
    while (now := time.monotonic() - began) < seconds:
        samples.append((now, accepted(sandbox)))
        if now >= settled and "settled" not in counts:
            counts["settled"] = per_process(sandbox)
        if now >= kill_after and not killed:
            counts["kill"] = per_process(sandbox)
            samples.append((time.monotonic() - began, accepted(sandbox)))
            running[-1].send_signal(signal.SIGKILL)
            killed, kill_at = True, time.monotonic() - began
        time.sleep(0.25)
    for process in running[:-1]:
        process.send_signal(signal.SIGTERM)
    for process in running[:-1]:
        process.wait()
    end = samples[-1][0]
    shares = counts["kill"] - counts["settled"]
    together = rate_between(samples, settled, kill_at) / RATE
    after_lease = rate_between(samples, kill_at + LEASE, end) / RATE
    recovered = recovered_after(samples, kill_at, end)
    refused = statuses(sandbox).get("429", 0)
    fair = sum(shares.values()) / len(running)
    worst = max(abs(n - fair) / fair for n in shares.values()) if fair else 1.0
    delivered = [
        json.loads((work / f"p{i}.json").read_text())["syncs"][0]["delivered"]
        for i in range(len(running) - 1)
        if (work / f"p{i}.json").exists()
    ]
    print(f"  429s at the sandbox: {refused} (target 0)")
    print(
        f"  {len(running)} together, {settled:.0f}-{kill_at:.0f} s: {together:.1%} of the "
        f"ceiling (target >= 95%)"
    )
    print(
        "  each one's records: "
        + ", ".join(f"{k} {n:,}" for k, n in sorted(shares.items()))
        + f"; furthest from a fair share: {worst:.1%} (target <= 10%)"
    )
    said = "never" if recovered is None else f"{recovered:.1f} s"
    print(
        f"  after the kill: >= 95% again over 3 s after {said} (lease {LEASE:g} s); "
        f"{kill_at + LEASE:.0f}-{end:.0f} s: {after_lease:.1%} of the ceiling (target >= 95%)"
    )
    print(f"  the survivors reported {', '.join(f'{n:,}' for n in delivered)} records delivered")
    return (
        refused == 0
        and together >= 0.95
        and worst <= 0.10
        and after_lease >= 0.95
        and recovered is not None
        and recovered <= LEASE
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["all", "postgres", "s3", "sqlite"], default="all")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, help="default: --kill-after and 30 s more")
    parser.add_argument(
        "--kill-after", type=float, help="default: 10 s to settle and one whole turn of shares"
    )
    args = parser.parse_args()
    chosen = ["postgres", "s3"] if args.backend == "all" else [args.backend]
    kill_after = args.kill_after or 10 + args.processes * ROTATION
    seconds = args.seconds or kill_after + 30
    met = [bench(name, seconds, kill_after, args.processes) for name in chosen]
    print("targets met" if all(met) else "some targets missed")


if __name__ == "__main__":
    main()
