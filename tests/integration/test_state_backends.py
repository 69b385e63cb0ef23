"""The state backends' contract, the same for SQLite, PostgreSQL and S3 (moto server)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.state.base import (
    SCHEMA_VERSION,
    Fenced,
    LeaseLost,
    MovesState,
    StateContext,
    StateError,
    StateLocked,
    StateStore,
)
from engine.state.postgres import PostgresStateStore
from engine.state.s3 import S3StateStore
from engine.state.sqlite import SqliteStateStore
from tests.integration._state_backends import (
    BACKENDS,
    KEY_ID,
    SECRET,
    Backend,
    drop_postgres_tables,
    make_backend,
    moto_url,
    s3_client,
)

__all__ = ["moto_url"]  # the fixture, imported for pytest

FACTORIES: dict[str, Any] = {
    "sqlite": SqliteStateStore,
    "postgres": PostgresStateStore,
    "s3": S3StateStore,
}


def resolved(backend: Backend) -> dict[str, Any]:
    block = {k: v for k, v in backend.block.items() if k != "backend"}
    return {k: backend.env.get(v[2:-1], v) if isinstance(v, str) else v for k, v in block.items()}


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    moto = request.getfixturevalue("moto_url") if request.param == "s3" else None
    made = make_backend(request.param, tmp_path, moto)
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    yield made
    if made.name == "postgres":
        drop_postgres_tables(made.block["table"])


def open_store(backend: Backend, tmp_path: Path) -> StateStore:
    store: StateStore = FACTORIES[backend.name](resolved(backend), StateContext(tmp_path))
    return store


def test_positions_are_saved_replaced_listed_and_cleared(backend: Backend, tmp_path: Path) -> None:
    store = open_store(backend, tmp_path)
    position = (dt.datetime(2024, 1, 1, 8, 0), Decimal("10.50"), 42)
    try:
        assert store.load("s.yaml:a") is None
        store.save("s.yaml:a", ("x.csv", 10), "f1", "x.csv:10")
        store.save("s.yaml:a", position, "f2", "t[updated_at=...]")
        store.save("other.yaml:a", ("y.csv", 3), "f3", "y.csv:3")
        stored = store.load("s.yaml:a")
        assert stored is not None
        assert (stored.position, stored.fingerprint, stored.where, stored.problem) == (
            position,
            "f2",
            "t[updated_at=...]",
            None,
        )
        assert stored.saved_at.tzinfo is not None
        assert [e.sync_key for e in store.entries("s.yaml:")] == ["s.yaml:a"]
        assert store.clear("s.yaml:a")
        assert not store.clear("s.yaml:a")
        assert store.load("s.yaml:a") is None
        assert [e.sync_key for e in store.entries()] == ["other.yaml:a"]
    finally:
        store.close()
    reopened = open_store(backend, tmp_path)  # what a fresh runner sees
    try:
        again = reopened.load("other.yaml:a")
        assert again is not None
        assert again.position == ("y.csv", 3)
    finally:
        reopened.close()


def test_digests_are_looked_up_saved_counted_and_cleared(backend: Backend, tmp_path: Path) -> None:
    keys = [i.to_bytes(16, "big") for i in range(1200)]
    store = open_store(backend, tmp_path)
    try:
        assert store.lookup_digests("s.yaml:a", keys[:3]) == {}
        store.save_digests("s.yaml:a", [(k, b"d" * 16) for k in keys[:1000]])
        store.save_digests("s.yaml:a", [(keys[5], b"e" * 16), (keys[1100], b"f" * 16)])
        store.save_digests("s.yaml:b", [(keys[7], b"g" * 16)])
        found = store.lookup_digests("s.yaml:a", [keys[0], keys[5], keys[1100], keys[1199]])
        assert found == {keys[0]: b"d" * 16, keys[5]: b"e" * 16, keys[1100]: b"f" * 16}
        assert store.count_digests("s.yaml:a") == 1001
    finally:
        store.close()
    fresh = open_store(backend, tmp_path)  # a fresh runner: only what the store kept
    try:
        assert fresh.lookup_digests("s.yaml:a", [keys[5], keys[999]]) == {
            keys[5]: b"e" * 16,
            keys[999]: b"d" * 16,
        }
        assert fresh.lookup_digests("s.yaml:b", [keys[7], keys[5]]) == {keys[7]: b"g" * 16}
        assert fresh.clear_digests("s.yaml:a") == 1001
        assert fresh.count_digests("s.yaml:a") == 0
        assert fresh.count_digests("s.yaml:b") == 1
    finally:
        fresh.close()


def test_state_moves_to_a_new_key_whole_and_only_into_an_empty_one(
    backend: Backend, tmp_path: Path
) -> None:
    """`move` (an upgrade's former key -> the scoped key): position and digests arrive together,
    the former key is left empty, and a key that holds state already is never overwritten."""
    keys = [i.to_bytes(16, "big") for i in range(700)]
    store = open_store(backend, tmp_path)
    assert isinstance(store, MovesState)
    try:
        store.save("s.yaml:a", ("x.csv", 10), "f1", "x.csv:10")
        store.save_digests("s.yaml:a", [(k, b"d" * 16) for k in keys[:600]])
        store.save_digests("s.yaml:a", [(k, b"e" * 16) for k in keys[500:]])
        store.save("s.yaml:b", ("y.csv", 1), "f2", "y.csv:1")
        assert store.move("s.yaml:a", "repo/s.yaml[T]:a") == (True, 700)
        assert store.move("s.yaml:a", "repo/s.yaml[T]:a") == (False, 0)  # moved already
        assert store.move("s.yaml:b", "repo/s.yaml[T]:a") == (False, 0)  # never overwritten
    finally:
        store.close()
    fresh = open_store(backend, tmp_path)
    try:
        stored = fresh.load("repo/s.yaml[T]:a")
        assert stored is not None
        assert (stored.sync_key, stored.position, stored.where) == (
            "repo/s.yaml[T]:a",
            ("x.csv", 10),
            "x.csv:10",
        )
        assert fresh.load("s.yaml:a") is None
        assert fresh.count_digests("s.yaml:a") == 0
        assert fresh.count_digests("repo/s.yaml[T]:a") == 700
        found = fresh.lookup_digests("repo/s.yaml[T]:a", [keys[0], keys[650]])
        assert found == {keys[0]: b"d" * 16, keys[650]: b"e" * 16}
        assert fresh.load("s.yaml:b") is not None  # the refused move left it where it was
    finally:
        fresh.close()


def test_a_second_holder_waits_then_stops_with_a_clear_message(
    backend: Backend, tmp_path: Path
) -> None:
    first, second = open_store(backend, tmp_path), open_store(backend, tmp_path)
    try:
        lease = first.lock("sync.yaml", timeout=5)
        with pytest.raises(StateLocked, match=r"holds the state lock .*waited 0.5 s"):
            second.lock("sync.yaml", timeout=0.5)
        other = second.lock("other.yaml", timeout=0.5)  # another spec is not blocked
        other.release()
        released = threading.Timer(0.5, lease.release)
        released.start()
        taken = second.lock("sync.yaml", timeout=30)  # waits, then gets it once released
        released.join()
        taken.release()
    finally:
        first.close()
        second.close()


HOLDER = """
import sys, time
from engine.state.base import StateContext
from engine.state.{module} import {cls}
store = {cls}({config!r}, StateContext(__import__("pathlib").Path({directory!r})))
lease = store.lock("sync.yaml", timeout=10)
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holder_does_not_keep_the_lock(backend: Backend, tmp_path: Path) -> None:
    """SIGKILL the holder: its lock frees itself (at once, or when an S3 lease expires)."""
    module, cls = {
        "sqlite": ("sqlite", "SqliteStateStore"),
        "postgres": ("postgres", "PostgresStateStore"),
        "s3": ("s3", "S3StateStore"),
    }[backend.name]
    code = HOLDER.format(module=module, cls=cls, config=resolved(backend), directory=str(tmp_path))
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        store = open_store(backend, tmp_path)
        with pytest.raises(StateLocked):
            store.lock("sync.yaml", timeout=0.2)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        lease = store.lock("sync.yaml", timeout=20)  # the S3 lease in the tests lasts 2 s
        lease.release()
        store.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def corrupt(backend: Backend, tmp_path: Path, key: str, how: str) -> None:
    """Damage the stored position of `key` behind the backend's back."""
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(backend.block["path"]) as db:
            if how == "garbage":
                db.execute("UPDATE positions SET position = '{not json' WHERE sync_key = ?", (key,))
            else:
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
        db.close()
    elif backend.name == "postgres":
        import psycopg

        table = backend.block["table"]
        with psycopg.connect(backend.env["STATE_DB"], autocommit=True) as db:
            column, value = (
                ("position", "{not json")
                if how == "garbage"
                else (
                    "schema_version",
                    SCHEMA_VERSION + 1,
                )
            )
            db.execute(f'UPDATE "{table}" SET {column} = %s WHERE sync_key = %s', (value, key))
    else:
        bucket, prefix = backend.block["url"][5:].split("/", 1)
        client = s3_client(backend.block["endpoint_url"])
        object_key = f"{prefix}/positions/{key.replace(':', '%3A')}.json"
        if how == "garbage":
            body = b"{truncated"
        else:
            document = json.loads(client.get_object(Bucket=bucket, Key=object_key)["Body"].read())
            body = json.dumps({**document, "schema_version": SCHEMA_VERSION + 1}).encode()
        client.put_object(Bucket=bucket, Key=object_key, Body=body)
        client.close()


@pytest.mark.parametrize("how", ["garbage", "newer"])
def test_a_corrupt_or_newer_state_is_reported_not_replaced(
    backend: Backend, tmp_path: Path, how: str
) -> None:
    store = open_store(backend, tmp_path)
    store.save("s.yaml:a", ("x.csv", 10), "f1", "x.csv:10")
    store.close()
    corrupt(backend, tmp_path, "s.yaml:a", how)
    store = open_store(backend, tmp_path)
    try:
        if backend.name == "sqlite" and how == "newer":  # the whole file carries the version
            with pytest.raises(StateError, match="written by a newer omnisync"):
                store.load("s.yaml:a")
            return
        stored = store.load("s.yaml:a")
        assert stored is not None
        assert stored.position is None
        expected = "corrupt" if how == "garbage" else "written by a newer omnisync"
        assert stored.problem is not None
        assert expected in stored.problem
        assert store.clear("s.yaml:a")  # `state reset` still works on it
    finally:
        store.close()


def test_s3_writes_are_conditional(backend: Backend, tmp_path: Path) -> None:
    """Two writers of one position object: the one that read an older version is refused."""
    if backend.name != "s3":
        pytest.skip("S3 only: the other backends write through one transaction")
    first, second = open_store(backend, tmp_path), open_store(backend, tmp_path)
    try:
        first.save("s.yaml:a", ("x.csv", 1), "f", "x.csv:1")
        assert second.load("s.yaml:a") is not None
        first.save("s.yaml:a", ("x.csv", 2), "f", "x.csv:2")
        with pytest.raises(StateError, match="changed by another run"):
            second.save("s.yaml:a", ("x.csv", 3), "f", "x.csv:3")
        stored = first.load("s.yaml:a")
        assert stored is not None
        assert stored.position == ("x.csv", 2)
    finally:
        first.close()
        second.close()


def test_no_credentials_in_what_a_backend_describes(backend: Backend, tmp_path: Path) -> None:
    config = resolved(backend)
    if backend.name == "postgres":
        config["url"] = "postgresql://app:pa55w0rd@127.0.0.1:5432/test"
    store = FACTORIES[backend.name](config, StateContext(tmp_path))
    text = store.describe()
    assert "pa55w0rd" not in text
    assert SECRET not in text
    assert KEY_ID not in text


def test_s3_digest_deltas_are_folded_into_the_base_at_close(
    backend: Backend, tmp_path: Path
) -> None:
    if backend.name != "s3":
        pytest.skip("S3 only: base and delta objects")
    bucket, prefix = backend.block["url"][5:].split("/", 1)
    client = s3_client(backend.block["endpoint_url"])

    def objects() -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/digests/")
        return sorted(o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", []))

    keys = [i.to_bytes(16, "big") for i in range(30)]
    writer = open_store(backend, tmp_path)
    writer.save_digests("s.yaml:a", [(k, b"1" * 16) for k in keys[:20]])
    writer.save_digests("s.yaml:a", [(k, b"2" * 16) for k in keys[10:30]])
    assert objects() == ["delta-000000000001", "delta-000000000002"]
    reader = open_store(backend, tmp_path)  # `state show` while a run writes: reads, folds nothing
    assert reader.count_digests("s.yaml:a") == 30
    reader.close()
    assert objects() == ["delta-000000000001", "delta-000000000002"]
    writer.close()
    assert objects() == ["base"]

    again = open_store(backend, tmp_path)
    assert again.lookup_digests("s.yaml:a", [keys[0], keys[15], keys[29]]) == {
        keys[0]: b"1" * 16,
        keys[15]: b"2" * 16,
        keys[29]: b"2" * 16,
    }
    again.save_digests("s.yaml:a", [(keys[0], b"3" * 16)])
    assert objects() == ["base", "delta-000000000003"]  # numbered after what the base holds
    again.close()
    client.close()
    last = open_store(backend, tmp_path)
    assert last.lookup_digests("s.yaml:a", [keys[0]]) == {keys[0]: b"3" * 16}
    assert last.count_digests("s.yaml:a") == 30
    last.close()


def lose_the_lease(backend: Backend, first: StateStore, lease: Any) -> None:
    """What makes a live holder lose its lease on each backend: its lock file replaced (SQLite),
    its lock connection cut (PostgreSQL), its renewals stalled past the lease (S3)."""
    if backend.name == "sqlite":
        os.unlink(lease.path)
    elif backend.name == "postgres":
        import psycopg

        with psycopg.connect(backend.env["STATE_DB"], autocommit=True) as db:
            db.execute("SELECT pg_terminate_backend(%s)", (lease.db.info.backend_pid,))
    else:

        def stalled() -> bool:
            raise OSError("stalled")

        lease._renew = stalled  # a paused process renews nothing


def test_a_run_that_lost_its_lease_can_neither_prove_it_nor_write(
    backend: Backend, tmp_path: Path
) -> None:
    """The next run takes over with a newer epoch; every write of the old holder is refused
    (LeaseLost), and the store keeps what the new holder wrote."""
    first, second = open_store(backend, tmp_path), open_store(backend, tmp_path)
    keys = [i.to_bytes(16, "big") for i in range(3)]
    try:
        lease = first.lock("sync.yaml", timeout=5)
        assert isinstance(lease, Fenced)
        first.save("s.yaml:a", ("x.csv", 1), "f", "x.csv:1")
        first.save_digests("s.yaml:a", [(k, b"1" * 16) for k in keys])
        lose_the_lease(backend, first, lease)
        taken = second.lock("sync.yaml", timeout=20)  # PostgreSQL, S3: once the lease expired
        assert isinstance(taken, Fenced)
        assert taken.epoch == lease.epoch + 1
        if backend.name == "s3":
            del lease._renew  # the paused process runs again
        assert second.load("s.yaml:a") is not None  # a run reads before it writes
        second.save("s.yaml:a", ("x.csv", 5), "f", "x.csv:5")
        second.save_digests("s.yaml:a", [(keys[0], b"5" * 16)])
        with pytest.raises(LeaseLost, match=r"stopped before sending or storing anything more"):
            lease.prove()
        for write in (
            lambda: first.save("s.yaml:a", ("x.csv", 2), "f", "x.csv:2"),
            lambda: first.save_digests("s.yaml:a", [(keys[0], b"2" * 16)]),
            lambda: first.clear("s.yaml:a"),
            lambda: first.clear_digests("s.yaml:a"),
        ):
            with pytest.raises(LeaseLost, match=r"sync.yaml"):
                write()
        taken.release()
    finally:
        first.close()
        second.close()
        if "lease" in locals():
            lease.release()
    fresh = open_store(backend, tmp_path)
    try:
        stored = fresh.load("s.yaml:a")
        assert stored is not None
        assert stored.position == ("x.csv", 5)
        assert fresh.lookup_digests("s.yaml:a", keys[:1]) == {keys[0]: b"5" * 16}
    finally:
        fresh.close()


class Skewed:
    """The time module of a machine whose wall clock runs an hour ahead."""

    def __init__(self) -> None:
        import time

        self.real = time

    def time(self) -> float:
        return self.real.time() + 3600

    def monotonic(self) -> float:
        return self.real.monotonic()


def test_a_machine_whose_clock_runs_ahead_never_takes_a_live_s3_lease(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expiry is judged by the store's clock (LastModified and Date), not the reader's."""
    if backend.name != "s3":
        pytest.skip("S3 only: the other backends judge by the database's clock or the kernel")
    from engine.state import s3_lease

    store = open_store(backend, tmp_path)
    assert isinstance(store, S3StateStore)
    key = store.objects.key("locks", "sync.yaml") + ".lease"
    holder = s3_lease.S3Lease(store.objects, key, 30)
    assert holder.attempt() is holder
    try:
        monkeypatch.setattr(s3_lease, "time", Skewed())
        assert s3_lease.S3Lease(store.objects, key, 30).attempt() is None
    finally:
        holder.release()
        store.close()
