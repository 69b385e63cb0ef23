"""The SQLite state store, the fingerprint, and the throttle that decides when a mark is saved."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.run.sync_state import SyncState
from engine.specfile import load_spec
from engine.state.base import StateContext
from engine.state.fingerprint import fingerprint
from engine.state.sqlite import SqliteStateStore


def store_in(directory: Path) -> SqliteStateStore:
    return SqliteStateStore({}, StateContext(directory))


def test_positions_are_saved_replaced_listed_and_cleared(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    position = (dt.datetime(2024, 1, 1, 8, 0), Decimal("10.50"), 42)
    try:
        assert store.load("s.yaml:a") is None
        assert not (tmp_path / ".omnisync").exists()  # reading creates nothing
        store.save("s.yaml:a", ("x.csv", 10), "f1", "x.csv:10")
        store.save("s.yaml:a", position, "f2", "t[updated_at=...]")
        store.save("other.yaml:a", ("y.csv", 3), "f3", "y.csv:3")
        stored = store.load("s.yaml:a")
        assert stored is not None
        assert (stored.position, stored.fingerprint, stored.where) == (
            position,
            "f2",
            "t[updated_at=...]",
        )
        assert stored.saved_at.tzinfo is not None
        assert [e.sync_key for e in store.entries("s.yaml:")] == ["s.yaml:a"]
        assert store.clear("s.yaml:a")
        assert not store.clear("s.yaml:a")
        assert store.load("s.yaml:a") is None
    finally:
        store.close()
    with sqlite3.connect(tmp_path / ".omnisync" / "state.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = db.execute("SELECT * FROM positions").fetchall()
    db.close()
    assert [row[0] for row in rows] == ["other.yaml:a"]


def test_the_fingerprint_follows_the_source_not_the_secrets() -> None:
    block = {"url": "postgresql://app:s3cret@db.internal/shop", "table": "members"}
    base = fingerprint("sql", block, "updated_at", ["s3cret"])
    rotated = {**block, "url": "postgresql://app:n3w-pass@db.internal/shop"}
    assert fingerprint("sql", rotated, "updated_at", ["n3w-pass"]) == base
    assert fingerprint("sql", {**block, "table": "customers"}, "updated_at", []) != base
    assert fingerprint("sql", block, "created_at", []) != base
    other_host = {**block, "url": "postgresql://app:s3cret@db2.internal/shop"}
    assert fingerprint("sql", other_host, "updated_at", [other_host["url"]]) != base
    assert "s3cret" not in base


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_marks_are_saved_every_n_advances_or_every_interval_and_at_the_end(tmp_path: Path) -> None:
    store, clock = store_in(tmp_path), Clock()
    state = SyncState(
        store, "k", "fp", None, incremental=False, dry_run=False, every=3, clock=clock
    )
    try:
        state.advance(("a.csv", 1))
        state.advance(("a.csv", 2))
        assert store.load("k") is None  # two advances, no time passed: not yet
        state.advance(("a.csv", 3))
        assert store.load("k").position == ("a.csv", 3)  # type: ignore[union-attr]
        clock.now = 1.5
        state.advance(("a.csv", 4))
        assert store.load("k").position == ("a.csv", 4)  # type: ignore[union-attr]
        state.advance(("a.csv", 5))
        state.end(clean=False)  # a failure or a stop: the last mark is saved
        assert store.load("k").position == ("a.csv", 5)  # type: ignore[union-attr]
        state.end(clean=True)  # not incremental: a clean finish forgets it
        assert store.load("k") is None
    finally:
        store.close()


def test_an_incremental_sync_keeps_its_mark_and_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    try:
        incremental = SyncState(store, "inc", "fp", None, incremental=True, dry_run=False)
        incremental.advance((dt.date(2024, 5, 1), 9))
        incremental.end(clean=True)
        assert store.load("inc").position == (dt.date(2024, 5, 1), 9)  # type: ignore[union-attr]
        dry = SyncState(store, "dry", "fp", None, incremental=False, dry_run=True, every=1)
        dry.advance(("a.csv", 1))
        dry.end(clean=False)
        assert store.load("dry") is None
    finally:
        store.close()


SPEC = """\
version: 1
state: {state}
omnisegment: {{environment: sandbox}}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    mapping: {{member_sn: id}}
"""


def test_the_state_block_is_checked_against_the_installed_backends(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text("id\nM1\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC.format(state="{path: st/x.db, timeout: 2}"), encoding="utf-8")
    assert load_spec(spec).state == {"path": "st/x.db", "timeout": 2}
    for block, message in [
        ("{backend: sqllite}", "state.backend: 'sqllite' is not one of 'postgres', 's3', 'sqlite'"),
        ("{pth: x.db}", "state.pth: unknown key 'pth' (did you mean 'path'?)"),
    ]:
        spec.write_text(SPEC.format(state=block), encoding="utf-8")
        with pytest.raises(SpecError) as caught:
            load_spec(spec)
        assert any(message in line for line in caught.value.lines), caught.value.lines


def test_only_a_real_run_gives_the_pipeline_a_checkpoint_callback(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    try:
        dry = SyncState(store, "dry", "fp", None, incremental=False, dry_run=True)
        assert dry.on_checkpoint is None
        real = SyncState(store, "real", "fp", None, incremental=False, dry_run=False, every=1)
        assert real.on_checkpoint is not None
        real.on_checkpoint(("a.csv", 4))
        assert store.load("real").position == ("a.csv", 4)  # type: ignore[union-attr]
    finally:
        store.close()
