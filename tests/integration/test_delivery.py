"""The delivery engine against the sandbox: bisection cost, circuit breakers, faults, order, budget."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningSandbox, run_cli
from tests.sandbox_specs import members, write_rows, write_spec

BATCH_ROUTE = "/api/v2/audiences/batch-import/"


def requests(sandbox: RunningSandbox) -> int:
    return sum(sandbox.stats()["requests"].values())


def report_of(path: Path) -> dict[str, object]:
    sync: dict[str, object] = json.loads(path.read_text())["syncs"][0]
    return sync


def adds_up(sync: dict[str, object]) -> bool:
    parts = ("delivered", "filtered", "rejected", "failed", "unsent")
    return sum(int(sync[p]) for p in parts) == sync["rows_read"]  # type: ignore[call-overload]


def test_one_percent_bad_records_cost_at_most_15_extra_requests_each(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """At 1% bad records, bisection isolates each one in at most 15 extra requests; the good
    records are all stored and the bad ones are in the reject file with the server's ERR_MSG."""
    write_rows(tmp_path / "members.csv", members(5000))
    sandbox.configure(reject_keys=r"^M\d{4}42$")  # M000042, M000142, ...: 50 records, 1%
    spec = write_spec(tmp_path, top="max_reject_ratio: 0.02")

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    assert len(sandbox.records("audience")) == 4950
    extra = requests(sandbox) - 100
    assert extra <= 15 * 50, extra
    lines = (tmp_path / ".omnisync/rejects-members.jsonl").read_text().splitlines()
    rejects = [json.loads(line) for line in lines]
    assert sorted(r["key"] for r in rejects) == [f"M{i:04d}42" for i in range(50)]
    assert {r["reason"] for r in rejects} == {"Input Error: data[0] was refused by the server"}
    sync = report_of(tmp_path / "r.json")
    assert (sync["delivered"], sync["rejected"]) == (4950, 50)
    assert adds_up(sync)


def test_every_record_rejected_alike_stops_within_50_requests(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """When the server refuses everything for the same reason, the sync stops with that reason
    instead of bisecting 200 batches into 10,000 single records."""
    write_rows(tmp_path / "members.csv", members(10_000))
    sandbox.configure(reject_keys=".")
    spec = write_spec(tmp_path, top="max_reject_ratio: 1")

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=sandbox_env)

    assert result.returncode == 1
    assert "rejected requests in a row with the same error" in result.stderr
    assert "was refused by the server" in result.stderr
    assert requests(sandbox) <= 50
    sync = report_of(tmp_path / "r.json")
    assert adds_up(sync)
    assert sync["delivered"] == 0
    assert sync["rows_read"] < 10_000  # it stopped reading too


def test_refused_credentials_stop_within_20_requests_naming_the_key(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A wrong api_key is a 403 on every request: the sync stops at once with a clear message,
    and the key itself appears nowhere in the output."""
    write_rows(tmp_path / "members.csv", members(10_000))
    env = {**sandbox_env, "WRONG_KEY": "wrong-key-5f0c2b9d4e77-0d3f8a6e"}
    spec = write_spec(tmp_path, api_key="${WRONG_KEY}")

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=env)

    assert result.returncode == 1
    assert "check the tid and api_key" in result.stderr
    assert "wrong-key-5f0c2b9d4e77" not in result.stderr + result.stdout
    assert requests(sandbox) <= 20
    assert sandbox.stats()["requests"].get(f"{BATCH_ROUTE} 403", 0) >= 1
    assert adds_up(report_of(tmp_path / "r.json"))


def test_faults_and_duplicate_keys_deliver_every_record_newest_last(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """With 10% 502/503/504 and 2% connection resets, every record arrives, and for a key read
    three times the value the sandbox keeps is the newest, whatever was retried."""
    rows = [(f"M{i % 1000:06d}", f"version {i // 1000}", f"m{i}@example.com") for i in range(3000)]
    write_rows(tmp_path / "members.csv", rows)
    sandbox.configure(fail_ratio=0.1, reset_ratio=0.02, seed=11)
    retry = (
        "{unavailable: {interval: 0.01, attempts: 10}, transient: {interval: 0.01, attempts: 10}}"
    )
    spec = write_spec(tmp_path, delivery=f"{{rate_limit: 1000/s, concurrency: 8, retry: {retry}}}")

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    stored = sandbox.records("audience")
    assert len(stored) == 1000
    assert {record["name"] for record in stored.values()} == {"version 2"}  # type: ignore[index]
    statuses = sandbox.stats()["requests"]
    assert any(status.endswith(("502", "503", "504")) for status in statuses)
    sync = report_of(tmp_path / "r.json")
    assert sync["delivered"] == 3000
    assert sync["retries"] > 0
    assert adds_up(sync)


def test_early_stop_stops_a_broken_sync_with_exit_3(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Past early_stop.after rows, a reject share above early_stop.ratio stops the sync."""
    rows = [(f"M{i:06d}" if i % 5 else "", "n", "e") for i in range(20_000)]  # 20% no member_sn
    write_rows(tmp_path / "members.csv", rows)
    top = "max_reject_ratio: 0.05\nearly_stop: {ratio: 0.1, after: 500}"
    spec = write_spec(tmp_path, top=top)

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=sandbox_env)

    assert result.returncode == 3, result.stderr
    assert "more than early_stop.ratio 0.1 after 500 rows" in result.stderr
    assert "rejects-members.jsonl" in result.stderr
    sync = report_of(tmp_path / "r.json")
    assert sync["rows_read"] <= 1000
    assert adds_up(sync)


def test_max_reject_ratio_decides_the_exit_code_once_every_good_row_is_delivered(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """20% rejects over max_reject_ratio 0.05: exit 3, but only after the other 80% arrived."""
    rows = [(f"M{i:06d}" if i % 5 else "", "n", f"m{i}@example.com") for i in range(5_000)]
    write_rows(tmp_path / "members.csv", rows)
    spec = write_spec(tmp_path, top="max_reject_ratio: 0.05")

    result = run_cli("run", str(spec), "--report", str(tmp_path / "r.json"), env=sandbox_env)

    assert result.returncode == 3, result.stderr
    assert "more than max_reject_ratio 0.05" in result.stderr
    sync = report_of(tmp_path / "r.json")
    assert (sync["rows_read"], sync["delivered"], sync["rejected"]) == (5_000, 4_000, 1_000)
    assert adds_up(sync)


def test_ten_requests_a_second_earn_no_429(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The client's evenly spaced slots stay inside the server's limit: no request is refused."""
    write_rows(tmp_path / "members.csv", members(1500))
    sandbox.configure(rate_limit=10)
    spec = write_spec(tmp_path, delivery="{rate_limit: 10/s}")

    result = run_cli("run", str(spec), env=sandbox_env)

    assert result.returncode == 0, result.stderr
    assert sandbox.stats()["requests"] == {f"{BATCH_ROUTE} 200": 30}
