"""The trigger marks' store, the same on SQLite, PostgreSQL and S3 (moto server): marks looked up,
replaced, forgotten, counted and cleared; kept for a fresh runner; refused once the lease is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.state.base import Fenced, LeaseLost
from engine.state.triggers import CONFIRMED, PENDING, Mark, TriggerStore, trigger_store
from tests.integration._state_backends import Backend, make_backend, moto_url
from tests.integration.test_state_backends import backend, lose_the_lease, open_store

__all__ = ["backend", "moto_url"]  # the fixtures, imported for pytest

SCOPE = "tw/win.yaml[OA-tw]:win_back#node_id 128"


def marks_of(store: object) -> TriggerStore:
    found = trigger_store(store)
    assert found is not None
    return found


def test_marks_are_looked_up_replaced_forgotten_counted_and_cleared(
    backend: Backend, tmp_path: Path
) -> None:
    keys = [i.to_bytes(16, "big") for i in range(1200)]
    store = open_store(backend, tmp_path)
    try:
        marks = marks_of(store)
        assert marks.lookup(SCOPE, keys[:3]) == {}
        marks.mark(SCOPE, [(k, Mark(PENDING, 100.0)) for k in keys[:1000]])
        marks.mark(SCOPE, [(k, Mark(CONFIRMED, 101.5)) for k in keys[:600]])
        marks.mark(SCOPE + "9", [(keys[0], Mark(PENDING, 5.0))])  # node 1289: its own marks
        marks.forget(SCOPE, keys[990:1000])
        found = marks.lookup(SCOPE, [keys[0], keys[700], keys[995], keys[1100]])
        assert found == {keys[0]: Mark(CONFIRMED, 101.5), keys[700]: Mark(PENDING, 100.0)}
        assert marks.counts(SCOPE) == {"confirmed": 600, "pending": 390 + 1}  # prefix: 1289 too
    finally:
        store.close()
    fresh = open_store(backend, tmp_path)  # a fresh runner: only what the store kept
    try:
        marks = marks_of(fresh)
        assert marks.lookup(SCOPE, [keys[1], keys[800]]) == {
            keys[1]: Mark(CONFIRMED, 101.5),
            keys[800]: Mark(PENDING, 100.0),
        }
        assert marks.lookup(SCOPE + "9", keys[:2]) == {keys[0]: Mark(PENDING, 5.0)}
        assert marks.clear(SCOPE) == 991
        assert marks.counts(SCOPE) == {}
        assert marks.lookup(SCOPE, keys[:2]) == {}
    finally:
        fresh.close()


def test_a_run_that_lost_its_lease_cannot_write_a_mark(backend: Backend, tmp_path: Path) -> None:
    """Fencing: a pending mark written by a run another run took over from is refused, so the
    paused run stops before its request leaves; the new holder's marks stay."""
    first, second = open_store(backend, tmp_path), open_store(backend, tmp_path)
    key = b"k" * 16
    try:
        lease = first.lock("win.yaml", timeout=5)
        assert isinstance(lease, Fenced)
        marks_of(first).mark(SCOPE, [(key, Mark(PENDING, 1.0))])
        lose_the_lease(backend, first, lease)
        taken = second.lock("win.yaml", timeout=20)
        if backend.name == "s3":
            del lease._renew  # the paused process runs again
        marks_of(second).mark(SCOPE, [(key, Mark(CONFIRMED, 2.0))])
        for write in (
            lambda: marks_of(first).mark(SCOPE, [(key, Mark(PENDING, 3.0))]),
            lambda: marks_of(first).forget(SCOPE, [key]),
        ):
            with pytest.raises(LeaseLost):
                write()
        taken.release()
    finally:
        first.close()
        second.close()
        if "lease" in locals():
            lease.release()
    fresh = open_store(backend, tmp_path)
    try:
        assert marks_of(fresh).lookup(SCOPE, [key]) == {key: Mark(CONFIRMED, 2.0)}
    finally:
        fresh.close()


def test_s3_trigger_writes_are_folded_into_a_base_at_close(
    tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One object a write while the run holds its lease; at its close one base object holding
    every mark (the forgotten one gone), and a fresh runner reads the same marks."""
    from tests.integration._state_backends import s3_client

    backend = make_backend("s3", tmp_path, moto_url)
    for name, value in backend.env.items():
        monkeypatch.setenv(name, value)
    keys = [i.to_bytes(16, "big") for i in range(30)]
    store = open_store(backend, tmp_path)
    lease = store.lock("win.yaml", timeout=5)
    try:
        marks = marks_of(store)
        for start in range(0, 30, 10):
            marks.mark(SCOPE, [(k, Mark(PENDING, 1.0)) for k in keys[start : start + 10]])
            marks.mark(SCOPE, [(k, Mark(CONFIRMED, 2.0)) for k in keys[start : start + 10]])
        marks.forget(SCOPE, keys[:1])
    finally:
        store.close()  # then the lease, as a run lets go: its renewals must not outlive the test
        if lease is not None:
            lease.release()
    bucket = backend.block["url"].split("/")[2]
    client = s3_client(moto_url)
    listed = client.list_objects_v2(Bucket=bucket, Prefix="nightly/triggers/")
    client.close()
    names = [item["Key"] for item in listed.get("Contents", [])]
    assert len(names) == 1
    assert names[0].endswith("-00000000-base")
    fresh = open_store(backend, tmp_path)
    try:
        found = marks_of(fresh).lookup(SCOPE, keys)
        assert found == {k: Mark(CONFIRMED, 2.0) for k in keys[1:]}
    finally:
        fresh.close()
