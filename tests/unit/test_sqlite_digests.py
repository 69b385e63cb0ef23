"""The SQLite digest log: saves land in the log, lookups and counts see them before they are
folded, and a store that closed without folding (a crash) leaves nothing behind for the next."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.state import sqlite_digests
from engine.state.base import StateContext
from engine.state.change_detection import PENDING
from engine.state.sqlite import SqliteStateStore

SYNC = "s.yaml:members"


def store_in(directory: Path) -> SqliteStateStore:
    return SqliteStateStore({}, StateContext(directory))


def key(n: int) -> bytes:
    return n.to_bytes(16, "big")


def digest(n: int, version: int = 1) -> bytes:
    return bytes([version]) * 8 + n.to_bytes(8, "big")


def table(directory: Path, name: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(directory / ".omnisync" / "state.db") as db:
        rows = db.execute(f"SELECT * FROM {name}").fetchall()
    db.close()
    return rows


def test_saves_are_found_before_and_after_the_fold_at_close(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    try:
        store.save_digests(SYNC, [(key(1), digest(1)), (key(2), digest(2))])
        store.save_digests(SYNC, [(key(2), PENDING), (key(3), digest(3))])
        assert table(tmp_path, "digests") == []  # in the log so far
        assert len(table(tmp_path, "digest_log")) == 2
        found = store.lookup_digests(SYNC, [key(1), key(2), key(3), key(4)])
        assert found == {key(1): digest(1), key(2): PENDING, key(3): digest(3)}
        assert store.count_digests(SYNC) == 2  # PENDING is not a digest
    finally:
        store.close()
    assert table(tmp_path, "digest_log") == []
    assert sorted((bytes(k), bytes(d)) for _, k, d, _ in table(tmp_path, "digests")) == [
        (key(1), digest(1)),
        (key(2), PENDING),
        (key(3), digest(3)),
    ]
    again = store_in(tmp_path)
    try:
        assert again.lookup_digests(SYNC, [key(2), key(3)]) == {key(2): PENDING, key(3): digest(3)}
        assert again.count_digests(SYNC) == 2
    finally:
        again.close()


def test_a_log_left_by_a_crash_is_read_in_order_and_folded_by_the_next_run(
    tmp_path: Path,
) -> None:
    store = store_in(tmp_path)
    store.save_digests(SYNC, [(key(1), digest(1))])
    store.close()  # folded: the keyed table holds version 1
    crashed = store_in(tmp_path)
    crashed.save_digests(SYNC, [(key(1), PENDING)])
    crashed.save_digests(SYNC, [(key(1), digest(1, 2)), (key(5), digest(5))])
    crashed._db.close()  # type: ignore[union-attr]  # killed: never closed, never folded
    crashed._db = None
    assert len(table(tmp_path, "digest_log")) == 2
    after = store_in(tmp_path)
    try:
        assert after.lookup_digests(SYNC, [key(1), key(5)]) == {
            key(1): digest(1, 2),
            key(5): digest(5),
        }
        assert after.count_digests(SYNC) == 2
        after.save_digests(SYNC, [(key(6), digest(6))])
    finally:
        after.close()
    assert table(tmp_path, "digest_log") == []
    assert len(table(tmp_path, "digests")) == 3


def test_a_run_holding_the_lock_folds_a_crashed_log_it_read_without_saving(
    tmp_path: Path,
) -> None:
    crashed = store_in(tmp_path)
    crashed.save_digests(SYNC, [(key(1), PENDING)])
    crashed._db.close()  # type: ignore[union-attr]  # killed: never closed, never folded
    crashed._db = None
    reader = store_in(tmp_path)  # no lock (`state show`): reads the log, leaves it
    assert reader.lookup_digests(SYNC, [key(1)]) == {key(1): PENDING}
    reader.close()
    assert len(table(tmp_path, "digest_log")) == 1
    run = store_in(tmp_path)
    lease = run.lock("s.yaml", 1.0)
    try:
        assert run.lookup_digests(SYNC, [key(1)]) == {key(1): PENDING}  # sends it, say, refused
    finally:
        run.close()
        lease.release()
    assert table(tmp_path, "digest_log") == []
    assert [(bytes(k), bytes(d)) for _, k, d, _ in table(tmp_path, "digests")] == [
        (key(1), PENDING)
    ]


def test_a_full_log_is_folded_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_digests, "FOLD_PAIRS", 3)
    store = store_in(tmp_path)
    try:
        store.save_digests(SYNC, [(key(1), digest(1)), (key(2), digest(2))])
        assert table(tmp_path, "digests") == []
        store.save_digests(SYNC, [(key(3), digest(3))])
        assert len(table(tmp_path, "digests")) == 3
        assert table(tmp_path, "digest_log") == []
        assert store.lookup_digests(SYNC, [key(3)]) == {key(3): digest(3)}
    finally:
        store.close()


def test_clear_and_move_take_the_log_along(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    try:
        store.save_digests("old:a", [(key(1), digest(1)), (key(2), digest(2))])
        assert store.move("old:a", "new:a") == (False, 2)
        assert store.lookup_digests("old:a", [key(1)]) == {}
        assert store.lookup_digests("new:a", [key(1)]) == {key(1): digest(1)}
        store.save_digests("new:a", [(key(3), digest(3))])
        assert store.clear_digests("new:a") == 3
        assert store.count_digests("new:a") == 0
        assert store.lookup_digests("new:a", [key(3)]) == {}
    finally:
        store.close()
    assert table(tmp_path, "digest_log") == []
    assert table(tmp_path, "digests") == []
