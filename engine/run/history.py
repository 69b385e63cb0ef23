"""A run's history: its row in the store's run history, and each sync's record ledger.

Opened with the run's state store (nothing for a dry run, a store without a ledger, or
`state: {history: {keep: 0}}`). At the start it forgets the runs older than `keep` and writes
the run (its id, spec, git commit, CI run URL); each sync gets a SyncLedger for its pipeline; at
a clean end of a full read the keys omnisync sent before and did not see now are listed as having
left the source; at the end the run is completed with its exit code and counts.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine import logging as omnilog
from engine.contracts import Endpoint
from engine.outcomes.report import SyncStats
from engine.specfile import Spec, SyncSpec
from engine.state.base import StateStore
from engine.state.change_detection import namespace
from engine.state.fingerprint import destination_fingerprint
from engine.state.identity import StateIdentity
from engine.state.ledger import (
    LedgerStore,
    ReadOnlyLedger,
    RunRecord,
    SyncLedger,
    cutoff,
    keep_seconds,
    ledger_of,
    utc_now,
)

log = omnilog.get_logger("omnisync.history")

COUNTS = ("read", "delivered", "unchanged", "filtered", "rejected", "failed", "unsent")


def key_namespace(spec: Spec, sync: SyncSpec) -> bytes:
    """The hashing key of the sync's record keys: change detection's own (see key_hash)."""
    meaning = destination_fingerprint(
        sync.destination_type,
        spec.connections.get(sync.destination_type, {}),
        sync.destination,
        spec.secrets,
    )
    return namespace(f"{spec.file.name}:{sync.name}", meaning)


def git_commit(directory: Path) -> str | None:
    """The commit checked out where the spec lives, when that is a git repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def ci_url(environ: dict[str, str] | None = None) -> str | None:
    """The CI job's page: GitHub Actions' run, or GitLab's CI_JOB_URL."""
    env = environ if environ is not None else dict(os.environ)
    parts = [env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if all(parts):
        return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}"
    return env.get("CI_JOB_URL") or None


class RunHistory:
    def __init__(
        self,
        ledger: LedgerStore | None,
        spec: Spec,
        identity: StateIdentity,
        run_id: str,
        reveal: bool,
    ) -> None:
        self.ledger = ledger
        self.spec = spec
        self.identity = identity  # the state's scope: two specs named alike keep two histories
        self.reveal = reveal
        self.run = RunRecord(run_id, identity.scope, utc_now())
        self._earlier: list[RunRecord] = []  # the spec's runs before this one, newest first
        self.predicting = False  # plan --changes: the ledger only read

    @classmethod
    def open(
        cls,
        store: StateStore,
        spec: Spec,
        identity: StateIdentity,
        run_id: str,
        dry_run: bool,
        reveal: bool,
        predict: bool = False,
    ) -> RunHistory:
        """`predict` (a dry run for `plan --changes`): the ledger read, never written, so the
        records that would leave the source are counted as the run would count them."""
        keep = keep_seconds(spec.state or {})
        ledger = None if keep <= 0 else ledger_of(store)
        if dry_run:  # nothing written; the plan reads what it needs
            ledger = ReadOnlyLedger(ledger) if predict and ledger is not None else None
        history = cls(ledger, spec, identity, run_id, reveal)
        history.predicting = dry_run
        if ledger is not None and not dry_run:
            pruned = ledger.prune(identity.scope, cutoff(keep))
            if pruned:
                log.info("history_pruned", runs=pruned)
        return history

    def begin(self, syncs: Sequence[SyncSpec]) -> None:
        if self.ledger is None:
            return
        self.run.commit = git_commit(self.spec.directory)
        self.run.ci_url = ci_url()
        self.run.syncs = {sync.name: {} for sync in syncs}  # filled at the end
        self._earlier = self.ledger.runs(self.identity.scope)
        self.ledger.begin_run(self.run)

    def sync(
        self, sync: SyncSpec, endpoint: Endpoint, key: Callable[[Any], str | None], full: bool
    ) -> SyncLedger | None:
        """The sync's ledger; `full`: a full read (not incremental, not resumed)."""
        if self.ledger is None:
            return None
        self.run.syncs[sync.name] = {"full": full}
        return SyncLedger(
            self.ledger,
            self.run.run_id,
            self.identity.key(sync.name),
            key_namespace(self.spec, sync),
            key,
            personal=endpoint.personal_fields,
            reveal=self.reveal,
            track_seen=full,
            rules={
                "filter": f"filter: {sync.filter}",
                "duplicate": f"dedupe_key: {sync.dedupe_key}",
            },
        )

    def end_sync(
        self, sync: SyncSpec, ledger: SyncLedger | None, stats: SyncStats, clean: bool
    ) -> None:
        """The last entries; after a clean full read, the keys that left the source."""
        if ledger is None:
            return
        entry = self.run.syncs.setdefault(sync.name, {})
        full_clean = bool(entry.get("full")) and clean
        entry["new"], entry["changed"] = ledger.counted["new"], ledger.counted["changed"]
        entry["full_clean"] = full_clean
        if not full_clean:
            ledger.flush()
            return
        stats.left_source = ledger.removed(self._since(sync.name))
        if stats.left_source and not self.predicting:
            log.warning("records_left_the_source", count=stats.left_source)

    def _since(self, name: str) -> list[str]:
        """The runs from the last clean full read of the sync on (none when there was none)."""
        since: list[str] = []
        for run in self._earlier:  # newest first
            since.append(run.run_id)
            if run.syncs.get(name, {}).get("full_clean"):
                return since
        return []

    def end(self, stats: Sequence[SyncStats], exit_code: int) -> None:
        if self.ledger is None:
            return
        for one in stats:
            counts = {k: getattr(one, k) for k in COUNTS}
            counts["left_source"] = one.left_source
            counts["stopped"] = one.stopped
            if one.events:
                counts.update(triggered=one.delivered, skipped=one.skipped, unknown=one.unknown)
            self.run.syncs[one.sync] = {**self.run.syncs.get(one.sync, {}), **counts}
        self.run.ended = utc_now()
        self.run.exit_code = exit_code
        self.ledger.end_run(self.run)
