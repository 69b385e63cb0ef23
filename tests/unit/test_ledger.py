"""The record ledger on SQLite: batches, lookups by hashed key, what left the source, retention."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.rows import Record
from engine.run.history import ci_url
from engine.state.base import StateContext
from engine.state.change_detection import key_hash
from engine.state.ledger import (
    PAIR,
    RunRecord,
    SyncLedger,
    find_in_blob,
    keep_seconds,
    ledger_of,
)
from engine.state.ledger_sql import SqlLedger
from engine.state.sqlite import SqliteStateStore
from tests.conftest import invoke_cli

SPACE = b"n" * 32
SYNC = "sync.yaml:members"


@pytest.fixture
def ledger(tmp_path: Path) -> SqlLedger:
    store = SqliteStateStore({"path": str(tmp_path / "state.db")}, StateContext(tmp_path))
    found = ledger_of(store)
    assert isinstance(found, SqlLedger)
    return found


def marked(key: str, digest: bytes = b"d" * 16) -> Record:
    record = Record({"id": key}, (0,), 0)
    record.mark = (key_hash(SPACE, key), digest)
    return record


def sync_ledger(ledger: SqlLedger, run_id: str, full: bool = True) -> SyncLedger:
    ledger.begin_run(RunRecord(run_id, "sync.yaml", f"2026-12-0{run_id[-1]}T00:00:00+00:00"))
    return SyncLedger(ledger, run_id, SYNC, SPACE, lambda p: p["id"], track_seen=full)


def test_a_key_is_found_in_a_blob_only_where_a_pair_starts() -> None:
    key, digest = b"k" * 16, b"d" * 16
    blob = b"x" * 8 + key + b"y" * 8 + key + digest
    assert find_in_blob(blob, key) == digest
    assert find_in_blob(b"x" * 8 + key + b"y" * 8, key) is None
    assert len(blob) == 2 * PAIR


def test_why_finds_every_outcome_of_a_key_and_removals_are_listed_once(ledger: SqlLedger) -> None:
    first = sync_ledger(ledger, "run1")
    first.screened([marked("A")], {})
    first.records("delivered", [marked("A"), marked("B"), marked("C")])
    first.single("rejected", "D", "email: 'd@example.com' is not an e-mail address", "email")
    assert first.removed([]) == 0  # nothing to compare with yet

    second = sync_ledger(ledger, "run2")
    changed = marked("A", b"e" * 16)
    second.screened([changed], {changed.mark[0]: b"d" * 16})  # type: ignore[index]
    second.records("delivered", [changed])
    second.records("unchanged", [marked("B")])
    assert second.removed(["run1"]) == 1  # C: sent in run1, not read now; D never sent

    third = sync_ledger(ledger, "run3")
    third.records("unchanged", [marked("A", b"e" * 16), marked("B")])
    assert third.removed(["run2"]) == 0  # since run2, the last clean full read: C already said

    found = {(s.run_id, s.action) for s in ledger.find(SYNC, key_hash(SPACE, "A"))}
    assert found == {("run1", "new"), ("run2", "changed"), ("run3", "unchanged")}
    assert sorted(s.action for s in ledger.find(SYNC, key_hash(SPACE, "C"))) == ["new", "removed"]
    (rejected,) = ledger.find(SYNC, key_hash(SPACE, "D"))
    assert rejected.reason is not None
    assert "d@example.com" not in rejected.reason  # masked as in the reject file
    assert rejected.shown == "*"


def test_a_flush_happens_by_size_not_only_at_the_end(ledger: SqlLedger) -> None:
    recorder = sync_ledger(ledger, "run1")
    recorder.records("unchanged", [marked(f"K{i}") for i in range(40_000)])  # > 1 MiB of pairs
    assert ledger.find(SYNC, key_hash(SPACE, "K7"))  # written before any flush() call


def test_old_runs_are_forgotten_with_their_entries(ledger: SqlLedger) -> None:
    old = sync_ledger(ledger, "run1")
    old.records("delivered", [marked("A")])
    old.flush()
    sync_ledger(ledger, "run2").flush()
    assert ledger.prune("sync.yaml", "2026-12-02T00:00:00+00:00") == 1
    assert [run.run_id for run in ledger.runs("sync.yaml")] == ["run2"]
    assert ledger.find(SYNC, key_hash(SPACE, "A")) == []


def test_retention_and_the_ci_url_are_read_from_the_spec_and_the_environment() -> None:
    assert keep_seconds({}) == 90 * 86400
    assert keep_seconds({"history": {"keep": "12h"}}) == 12 * 3600
    assert keep_seconds({"history": {"keep": 0}}) == 0
    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/etl",
        "GITHUB_RUN_ID": "42",
    }
    assert ci_url(github) == "https://github.com/acme/etl/actions/runs/42"
    assert ci_url({"CI_JOB_URL": "https://gitlab.example/acme/etl/-/jobs/7"}) is not None
    assert ci_url({}) is None


SPEC = """\
version: 1
omnisegment: {{base_url: "http://127.0.0.1:9", tid: OA-sandbox, api_key: "${{K}}"}}
state: {{history: {{keep: {keep}}}}}
syncs:
  - name: members
    source: {{csv: {{path: m.csv}}}}
    on_removed: {removed}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    mapping: {{member_sn: id}}
"""


@pytest.mark.parametrize(
    ("keep", "removed", "error"),
    [
        ("30d", "report", None),
        ("0", "report", None),
        ("soon", "report", "3:25 state.history.keep: 'soon' does not match"),
        ("30d", "delete", "syncs[0].on_removed: 'delete' is not one of 'report'"),
    ],
)
def test_history_keep_and_on_removed_are_checked_by_validate(
    tmp_path: Path, keep: str, removed: str, error: str | None
) -> None:
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC.format(keep=keep, removed=removed), encoding="utf-8")
    (tmp_path / "m.csv").write_text("id\nM1\n", encoding="utf-8")
    done = invoke_cli("validate", str(spec), env={**os.environ, "K": "x"})
    if error is None:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 2
        assert error in done.stdout + done.stderr


def test_reading_the_history_of_a_spec_never_run_creates_nothing(tmp_path: Path) -> None:
    store = SqliteStateStore({"path": str(tmp_path / "state.db")}, StateContext(tmp_path))
    ledger = ledger_of(store)
    assert ledger is not None
    assert ledger.runs("sync.yaml") == []
    assert ledger.find(SYNC, b"k" * 16) == []
    assert not (tmp_path / "state.db").exists()
