"""Change detection against a real SQLite store: what is skipped, what is saved, and when."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.durations import parse_duration
from engine.rows import Record
from engine.state.base import StateContext
from engine.state.change_detection import ChangeDetector, FieldSlots, key_hash, namespace
from engine.state.sqlite import SqliteStateStore


def records(values: dict[str, Any], start: int = 0) -> list[Record]:
    return [
        Record({"member_sn": key, "name": value}, ("m.csv", start + i), start + i)
        for i, (key, value) in enumerate(values.items())
    ]


def member_key(payload: Any) -> str | None:
    return payload.get("member_sn")


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = SqliteStateStore({}, StateContext(tmp_path))
    yield store
    store.close()


def detector(store: SqliteStateStore, meaning: str = "dest-1") -> ChangeDetector:
    return ChangeDetector(store, "s.yaml:members", meaning, member_key)


def test_only_acknowledged_records_are_remembered(store: SqliteStateStore) -> None:
    first = detector(store)
    batch = records({"M1": "a", "M2": "b", "M3": "c"})
    changed, unchanged = first.screen(batch)
    assert (len(changed), unchanged) == (3, [])
    first.acknowledged(changed[:2])  # M3's request never got an answer
    first.flush()

    second = detector(store)
    changed, unchanged = second.screen(records({"M1": "a", "M2": "B", "M3": "c"}))
    assert [r.payload["member_sn"] for r in unchanged] == ["M1"]
    assert [r.payload["member_sn"] for r in changed] == ["M2", "M3"]


def test_a_key_sent_earlier_in_the_run_is_never_skipped_later(store: SqliteStateStore) -> None:
    """M1 stored as 'a'; this run sends M1='x' then M1='a': the second must go too."""
    seed = detector(store)
    seed.acknowledged(seed.screen(records({"M1": "a"}))[0])
    seed.flush()
    run = detector(store)
    changed, _ = run.screen(records({"M1": "x"}))
    assert len(changed) == 1
    changed, unchanged = run.screen(records({"M1": "a"}, start=1))
    assert (len(changed), unchanged) == (1, [])


def colliding_keys(meaning: str = "dest-1") -> tuple[str, str]:
    """Two member numbers whose key hashes share their first 24 bits (where the former
    "sent in this run" bit map took one for the other)."""
    space = namespace("s.yaml:members", meaning)
    seen: dict[bytes, str] = {}
    for i in range(1_000_000):
        key = f"M{i}"
        prefix = key_hash(space, key)[:3]
        if prefix in seen:
            return seen[prefix], key
        seen[prefix] = key
    raise AssertionError("no collision")


def test_a_key_sent_in_this_run_never_makes_another_key_look_sent(store: SqliteStateStore) -> None:
    """Exact: an unchanged record is skipped even when its hash shares bits with a sent one."""
    first, second = colliding_keys()
    seed = detector(store)
    seed.acknowledged(seed.screen(records({first: "a", second: "b"}))[0])
    seed.flush()
    run = detector(store)
    changed, unchanged = run.screen(records({first: "A"}))  # sent in this run
    assert len(changed) == 1
    changed, unchanged = run.screen(records({second: "b"}, start=1))
    assert (changed, [r.payload["member_sn"] for r in unchanged]) == ([], [second])


def test_a_changed_record_loses_its_digest_before_it_is_sent(store: SqliteStateStore) -> None:
    """The digest of the old value is marked pending when the new value is screened (before its
    request leaves): a crash before the confirmation cannot leave the old digest to skip a revert."""
    seed = detector(store)
    seed.acknowledged(seed.screen(records({"M1": "old", "M2": "same"}))[0])
    seed.flush()
    run = detector(store)
    changed, _ = run.screen(records({"M1": "new", "M2": "same"}))
    assert [r.payload["member_sn"] for r in changed] == ["M1"]
    # the process dies here: sent, never acknowledged; the source goes back to the old value
    rerun = detector(store)
    changed, unchanged = rerun.screen(records({"M1": "old", "M2": "same"}))
    assert [r.payload["member_sn"] for r in changed] == ["M1"]
    assert [r.payload["member_sn"] for r in unchanged] == ["M2"]
    assert store.count_digests("s.yaml:members") == 1  # a pending mark is no digest


def test_an_older_acknowledgement_never_confirms_over_a_newer_send(
    store: SqliteStateStore,
) -> None:
    """M1 sent as 'b', then as 'c' later in the run: the answer for 'b' arriving after 'c' was
    screened must not store 'b' (the API may hold 'c' by the time a crash comes)."""
    run = detector(store)
    (first,), _ = run.screen(records({"M1": "b"}))
    (second,), _ = run.screen(records({"M1": "c"}, start=1))
    run.acknowledged([first])
    run.flush()
    rerun = detector(store)
    changed, unchanged = rerun.screen(records({"M1": "b"}))
    assert (len(changed), unchanged) == (1, [])
    run.acknowledged([second])
    run.flush()
    changed, unchanged = detector(store).screen(records({"M1": "c"}))
    assert (changed, len(unchanged)) == ([], 1)


def test_another_destination_meaning_sends_everything_again(store: SqliteStateStore) -> None:
    seed = detector(store, "account-1")
    seed.acknowledged(seed.screen(records({"M1": "a"}))[0])
    seed.flush()
    changed, unchanged = detector(store, "account-2").screen(records({"M1": "a"}))
    assert (len(changed), unchanged) == (1, [])


def test_records_without_a_key_are_always_sent(store: SqliteStateStore) -> None:
    keyless = [Record({"name": "x"}, ("m.csv", 0), 0)]
    seed = detector(store)
    seed.acknowledged(seed.screen(keyless)[0])
    seed.flush()
    changed, unchanged = detector(store).screen([Record({"name": "x"}, ("m.csv", 0), 0)])
    assert (len(changed), unchanged) == (1, [])


def test_keys_are_stored_hashed(store: SqliteStateStore, tmp_path: Path) -> None:
    email = "someone.private@example.com"
    run = ChangeDetector(store, "s.yaml:members", "d", lambda p: p["email"])
    run.acknowledged(run.screen([Record({"email": email}, ("m.csv", 0), 0)])[0])
    run.flush()
    store.close()
    raw = (tmp_path / ".omnisync" / "state.db").read_bytes()
    assert email.encode() not in raw
    assert key_hash(namespace("s.yaml:members", "d"), email) in raw


@pytest.mark.parametrize(
    ("text", "seconds"), [(90, 90.0), ("30s", 30.0), ("10m", 600.0), ("2h", 7200.0), ("500ms", 0.5)]
)
def test_durations(text: Any, seconds: float) -> None:
    """A duration is a number of seconds or a number with an ms, s, m or h unit."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10 minutes", "-5", True, "m"])
def test_bad_durations_are_refused(text: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_digest_tells_which_fields_differ_and_holds_no_value(store: SqliteStateStore) -> None:
    from engine.state.change_detection import FieldSlots, payload_digest, slots_differing

    space = namespace("s.yaml:members", "dest-1")
    slots = FieldSlots(space)
    old = {"member_sn": "M1", "name": "Ann", "email": "ann@example.com"}
    before = payload_digest(space, old, slots)
    after = payload_digest(space, {**old, "name": "Ann B."}, slots)
    differ = slots_differing(before, after)
    assert [name for slot in differ for name in slots.names(slot)] == ["name"]
    assert slots_differing(before, payload_digest(space, dict(old), slots)) == []
    assert len(before) == 16
    assert b"Ann" not in before
    dropped = payload_digest(space, {"member_sn": "M1", "name": "Ann"}, slots)
    assert [n for s in slots_differing(before, dropped) for n in slots.names(s)] == ["email"]

    # the detector's digest is payload_digest's, so the stored digest compares with it
    first = detector(store)
    (changed,), _ = first.screen(records({"M1": "Ann"}))
    assert changed.mark is not None
    assert changed.mark[1] == payload_digest(first.namespace, changed.payload)
    first.acknowledged([changed])
    first.flush()
    again = detector(store)
    _, (unchanged,) = again.screen(records({"M1": "Ann"}))
    assert unchanged.mark == changed.mark  # unchanged: decided on the whole hash, slots kept


def test_a_read_only_ledger_reads_and_never_writes(tmp_path: Path) -> None:
    from engine.state.ledger import ReadOnlyLedger, RunRecord, Single, ledger_of

    store = SqliteStateStore({}, StateContext(tmp_path))
    try:
        ledger = ledger_of(store)
        assert ledger is not None
        ledger.begin_run(RunRecord("r1", "scope", "2026-12-07T00:00:00+00:00"))
        ledger.write("r1", "scope:members", {"new": bytes(32)}, [])
        read_only = ReadOnlyLedger(ledger)
        read_only.begin_run(RunRecord("r2", "scope", "2026-12-08T00:00:00+00:00"))
        read_only.write(
            "r2", "scope:members", {"new": bytes(32)}, [Single(None, "removed", None, "")]
        )
        assert [run.run_id for run in read_only.runs("scope")] == ["r1"]
        assert list(read_only.bulk("scope:members", ["r1", "r2"])) == [("new", bytes(32))]
        assert read_only.prune("scope", "2027-01-01") == 0
        assert [run.run_id for run in ledger.runs("scope")] == ["r1"]
    finally:
        store.close()


def test_the_plan_names_the_changed_fields_and_a_key_listed_twice(store: SqliteStateStore) -> None:
    from types import SimpleNamespace

    from engine.run.change_plan import AGAIN, SyncChanges, _Watcher

    first = detector(store)
    (sent,), _ = first.screen(records({"M1": "Ann"}))
    first.acknowledged([sent])
    first.flush()
    dry = ChangeDetector(store, "s.yaml:members", "dest-1", member_key, save=False)
    plan = SimpleNamespace(
        endpoint=SimpleNamespace(key=member_key), batch_size=10, limiter=SimpleNamespace(rate=1.0)
    )
    found = SyncChanges("members")
    watcher = _Watcher(found, plan, dry)  # type: ignore[arg-type]
    chunk = [*records({"M1": "Bob"}), *records({"M1": "Ann"}, start=1), *records({"M2": "Cy"})]

    watcher(*dry.screen(chunk))
    watcher.done()

    assert (found.new, found.changed, found.unchanged) == (1, 2, 0)
    assert found.fields == {"name": 1, AGAIN: 1}


class CountingStore(SqliteStateStore):
    """The SQLite store, counting the keys each lookup asks about."""

    asked: list[int]

    def lookup_digests(self, sync_key: str, keys: Any) -> dict[bytes, bytes]:
        self.asked.append(len(keys))
        return super().lookup_digests(sync_key, keys)


def test_a_first_run_asks_the_store_only_about_keys_it_saved(tmp_path: Path) -> None:
    """Nothing stored at the start: new keys are not looked up; a key this run saved is, so
    its second version in the same run still marks its saved digest PENDING before it is sent."""
    store = CountingStore({}, StateContext(tmp_path))
    store.asked = []
    try:
        run = detector(store)
        batch = records({f"M{i}": "a" for i in range(1000)})
        changed, _ = run.screen(batch)
        assert len(changed) == 1000
        assert store.asked == []  # nothing saved yet: nothing asked
        run.acknowledged(changed)
        run.flush()
        changed, unchanged = run.screen(records({"M1": "b", "M2": "a", "M5000": "c"}, 1000))
        assert [r.payload["member_sn"] for r in changed] == ["M1", "M5000"]
        assert [r.payload["member_sn"] for r in unchanged] == ["M2"]
        assert store.asked[-1] in (2, 3)  # the two it saved (and, rarely, a key sharing a bit)
        # the process dies before M1='b' is acknowledged; the source goes back to 'a'
        changed, _ = detector(store).screen(records({"M1": "a"}))
        assert [r.payload["member_sn"] for r in changed] == ["M1"]
    finally:
        store.close()


def test_a_chunk_s_field_slots_are_those_of_its_records_one_at_a_time() -> None:
    """FieldSlots.many hashes a text-only chunk a column at a time: the same bytes as __call__,
    and any chunk it cannot (mixed fields, non-text values, a lone surrogate) record by record."""
    slots = FieldSlots(b"k" * 32)
    chunks = [
        [{"member_sn": f"M{i}", "name": f"會員{i}", "email": f"u{i}@x.tw"} for i in range(50)],
        [{"a": "1", "b": "2"}, {"b": "2", "a": "1"}],
        [{"a": "1", "b": 2}, {"a": "x", "b": None}],
        [{"a": "\ud800"}, {"a": "ok"}],
        [{f"f{i}": str(i) for i in range(12)}] * 3,  # more fields than slots: shared slots XOR
        [{}, {}],
        [],
    ]
    for chunk in chunks:
        assert slots.many(chunk) == [slots(payload) for payload in chunk]
    assert len(set(slots.many(chunks[0]))) > 1
