"""A model of the whole state machine (Hypothesis stateful), played against the sandbox, which keeps
what it received and whose control API tells what it holds.

Steps: runs (some killed at a named crash point, some `--full-refresh`), edits of the source (a
name changed, often back to an earlier one), rows made invalid and valid again, `rejects replay`,
and runs that lose their lock mid-way. After any of them, one clean run must leave:

- OmniSegment holding the latest value of every good record (valid in the source, not refused by
  the API), and
- the store's digests describing exactly what OmniSegment holds: each stored digest is the digest
  of the record OmniSegment has under that key (a key may also have none, or a pending mark).

The default run plays a few short sequences (under a minute); `-m long` plays many longer ones and
prints what it did.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from engine.crashpoints import POINTS
from engine.plugins import load_registry
from engine.run.resume import spec_identity
from engine.specfile import load_spec
from engine.state.change_detection import PENDING, key_hash, namespace, payload_digest
from engine.state.fingerprint import destination_fingerprint
from tests.conftest import RunningSandbox, run_cli
from tests.integration.test_delivery import write_rows
from tests.integration.test_signals import start

KEYS = [f"M{i:03d}" for i in range(8)]  # few: edits, reverts and crashes meet on the same keys
REFUSED = r"^M00[36]$"  # the API refuses these: bisection, rejects
NAMES = ["a", "b", "c"]
FAST = "{rate_limit: 5000/s, concurrency: 2, batch_size: 4}"  # small batches: many requests
SLOW = "{rate_limit: 8/s, concurrency: 1, batch_size: 4}"  # about a second: time to lose its lock
SPEC = """\
version: 1
omnisegment:
  base_url: ${{SANDBOX_URL}}
  tid: ${{OMNISEGMENT_TID}}
  api_key: ${{OMNISEGMENT_API_KEY}}
state: {{backend: sqlite, path: state.db}}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {delivery}
    max_reject_ratio: 1.0
    mapping: {{member_sn: id, name: name, email: email}}
"""
COUNTS: Counter[str] = Counter()  # what the sequences did, printed by the long form


class StateModel(RuleBasedStateMachine):
    sandbox: RunningSandbox
    env: dict[str, str]
    root: Path

    def __init__(self) -> None:
        super().__init__()
        self.sandbox.reset()
        self.sandbox.configure(reject_keys=REFUSED)
        self.dir = self.root / uuid.uuid4().hex[:10]
        self.dir.mkdir()
        self.spec = self.dir / "sync.yaml"
        self.values = dict.fromkeys(KEYS, ("a", True))  # name, valid email
        self.write(FAST)
        COUNTS["sequences"] += 1

    # -- the source and the commands ---------------------------------------------------------

    def write(self, delivery: str) -> None:
        self.spec.write_text(SPEC.format(delivery=delivery), encoding="utf-8")
        rows = [
            (key, f"{key} {name}", f"{key.lower()}@example.com" if valid else "not-an-email")
            for key, (name, valid) in self.values.items()
        ]
        write_rows(self.dir / "members.csv", rows)

    def omnisync(self, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({"OMNISYNC_CRASH_AT": crash} if crash else {})}
        COUNTS["commands"] += 1
        return run_cli(*args, env=env, timeout=120)

    # -- the steps -----------------------------------------------------------------------------

    @rule(key=st.sampled_from(KEYS), name=st.sampled_from(NAMES))
    def edit(self, key: str, name: str) -> None:
        self.values[key] = (name, self.values[key][1])
        self.write(FAST)

    @rule(key=st.sampled_from(KEYS))
    def toggle_validity(self, key: str) -> None:
        name, valid = self.values[key]
        self.values[key] = (name, not valid)
        self.write(FAST)

    @rule(
        point=st.none() | st.sampled_from(sorted(POINTS)),
        count=st.integers(1, 3),
        refresh=st.booleans(),
    )
    def run(self, point: str | None, count: int, refresh: bool) -> None:
        args = ("--full-refresh",) if refresh else ()
        done = self.omnisync(
            "run", str(self.spec), *args, crash=f"{point}:{count}" if point else None
        )
        assert done.returncode in (0, -9), done.stderr[-2000:]
        COUNTS["full refreshes" if refresh else "runs"] += 1
        if done.returncode == -9:
            COUNTS[f"killed at {point}"] += 1

    @rule()
    def replay(self) -> None:
        done = self.omnisync("rejects", "replay", str(self.spec))
        assert done.returncode == 0, done.stderr[-2000:]
        COUNTS["replays"] += 1

    @rule()
    def lose_the_lock(self) -> None:
        """A slow run whose lock file is replaced under it once it sends: it must stop."""
        self.write(SLOW)
        before = sum(self.sandbox.stats()["requests"].values())
        process = start(self.spec, self.env)
        try:
            for _ in range(300):  # bounded: 30 s
                if process.poll() is not None:
                    break
                if sum(self.sandbox.stats()["requests"].values()) > before:
                    for lock in self.dir.glob("state.db.*.lock"):
                        lock.unlink()
                    break
                time.sleep(0.1)
            _, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode in (0, 1), err[-2000:]
        if process.returncode == 1:
            assert "was removed or replaced" in err, err[-2000:]
            COUNTS["runs stopped by a lost lock"] += 1
        self.write(FAST)

    @rule()
    def clean_run(self) -> None:
        self.check()

    def teardown(self) -> None:
        self.check()

    # -- the invariant -----------------------------------------------------------------------

    def check(self) -> None:
        done = self.omnisync("run", str(self.spec))
        assert done.returncode == 0, done.stderr[-2000:]
        COUNTS["checks"] += 1
        held = self.sandbox.records("audience")
        good = [k for k, (_, valid) in self.values.items() if valid and not re.match(REFUSED, k)]
        stale = [k for k in good if _name(held.get(k)) != f"{k} {self.values[k][0]}"]
        assert stale == [], f"{len(stale)} good records stale or missing at OmniSegment: {stale}"
        space, key = self.hashing()
        by_hash = {key_hash(space, k): k for k in KEYS}
        with sqlite3.connect(self.dir / "state.db") as db:
            stored = db.execute("SELECT key, digest FROM digests WHERE sync_key = ?", (key,))
            lying = [
                by_hash.get(bytes(hashed), "?")
                for hashed, digest in stored
                if bytes(digest) != PENDING
                and payload_digest(space, held.get(by_hash.get(bytes(hashed), ""))) != bytes(digest)
            ]
        db.close()
        assert lying == [], f"stored digests that OmniSegment's records do not match: {lying}"

    def hashing(self) -> tuple[bytes, str]:
        """The sync's hashing key and state key, as a run computes them."""
        spec = load_spec(self.spec, environ=self.env)
        sync = spec.syncs[0]
        identity = spec_identity(spec, load_registry())
        meaning = destination_fingerprint(
            sync.destination_type,
            spec.connections[sync.destination_type],
            sync.destination,
            spec.secrets,
        )
        return namespace(identity.former_key(sync.name), meaning), identity.key(sync.name)


def _name(record: Any) -> Any:
    return record.get("name") if isinstance(record, dict) else None


def play(
    sandbox: RunningSandbox, env: dict[str, str], root: Path, examples: int, steps: int
) -> None:
    StateModel.sandbox, StateModel.env, StateModel.root = sandbox, env, root
    run_state_machine_as_test(
        StateModel,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )


def test_the_state_machine_keeps_the_api_and_the_digests_true(
    sandbox: RunningSandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    """A few short sequences (the long form plays many)."""
    play(sandbox, sandbox_env, tmp_path, examples=3, steps=8)


def test_a_replayed_record_is_sent_again_when_the_source_reverts(
    sandbox: RunningSandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    """One sequence of the model: M000 delivered as 'a', made invalid (rejected), fixed as 'b'
    and replayed, then the source goes back to 'a': the next run must send 'a'."""
    StateModel.sandbox, StateModel.env, StateModel.root = sandbox, sandbox_env, tmp_path
    model = StateModel()
    model.check()
    model.toggle_validity("M000")
    model.run(None, 1, refresh=False)
    model.edit("M000", "b")
    model.toggle_validity("M000")
    model.replay()
    model.edit("M000", "a")
    model.check()


@pytest.mark.long
def test_the_state_machine_long(
    sandbox: RunningSandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    COUNTS.clear()
    started = time.monotonic()
    play(
        sandbox, sandbox_env, tmp_path, examples=int(os.environ.get("MODEL_EXAMPLES", 40)), steps=14
    )
    print(f"\nstate model, {time.monotonic() - started:.0f} s:", dict(sorted(COUNTS.items())))
