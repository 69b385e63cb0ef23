"""One sync's use of the state store during a run: its resume position, the low-water mark saved
as it moves (throttled), and what a clean end, a failure or a dry run leaves stored
(engine/run/resume.py opens the store and hands each sync one of these).

- begin: a stored position whose fingerprint matches becomes the sync's resume point; a stale or
  unreadable one is ignored with a warning (and cleared, unless this is a dry run); --full-refresh
  ignores and clears it.
- during the run: each advance of the low-water mark is kept; it is saved when `every` advances
  piled up or `interval` seconds passed since the last save, so a SIGKILL loses at most that much.
- end: a failure or a stop saves the last mark; a clean finish clears the position of a sync
  without `incremental` (its next run reads everything again) and keeps it for an incremental one.
- a dry run may resume from a stored position but never writes one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from engine import logging as omnilog
from engine.contracts import Source, resume_problem
from engine.outcomes.report import SyncStats
from engine.rows import Position
from engine.state.base import StateError, StateStore, StoredPosition
from engine.state.change_detection import ChangeDetector
from engine.state.codec import PositionCodecError, render_position
from engine.state.triggers import TriggerGate

log = omnilog.get_logger("omnisync.state")

SAVE_INTERVAL = 1.0  # seconds between saves at most, while the mark moves
SAVE_EVERY = 8  # ... or this many advances of the mark (one per finished batch at most)
START: Position = ()  # "before the first row": stored when a run starts from the beginning
STALE = "source changed since the stored position: starting from the beginning"


def locate(source: Source | None, position: Position) -> str:
    if source is not None:
        try:
            return source.locate(position)
        except Exception:  # a source that cannot place a foreign-looking position
            pass
    return render_position(position)


class SyncState:
    def __init__(
        self,
        store: StateStore,
        key: str,
        fingerprint: str,
        source: Source | None,
        incremental: bool,
        dry_run: bool,
        interval: float = SAVE_INTERVAL,
        every: int = SAVE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.key = key
        self.fingerprint = fingerprint
        self.source = source
        self.incremental = incremental
        self.dry_run = dry_run
        self.interval = interval
        self.every = every
        self.clock = clock
        self.resume: Position | None = None  # where this run starts, set by RunState.begin
        self.latest: Position | None = None  # the low-water mark of this run
        self._pending = 0  # advances since the last save
        self._saved_at = clock()
        self._broken = False  # a position that cannot be stored: stop trying
        self.resumed_from: str | None = None
        self.resumed_saved_at: dt.datetime | None = None  # when the resumed position was saved
        self.notes: list[str] = []
        self.changes: ChangeDetector | None = None
        self.triggers: TriggerGate | None = None
        # an event sync saves its mark only at a clean end: a rerun after a crash reads again
        # every key the interrupted run touched, and reports each of unknown outcome by its key
        self.events = False
        self.before_save: Callable[[], None] | None = None  # the reject file's commit

    def start(self, stored: StoredPosition | None, full_refresh: bool) -> Position | None:
        if stored is None:
            return None
        if full_refresh:
            self._forget("full_refresh", "full refresh: the stored position was ignored")
            return None
        if stored.position == START and stored.fingerprint == self.fingerprint:
            # a run from the beginning that ended before it saved a mark: start there again
            self.resumed_saved_at = stored.saved_at
            return None
        if stored.position is None:
            raise StateError(
                f"the stored state of {self.key} in {self.store.describe()} is "
                f"{stored.problem or 'unreadable'}; nothing was read or sent. Run `omnisync state "
                "reset SPEC --select NAME` to start that sync over"
            )
        if stored.fingerprint != self.fingerprint:
            self._forget("state_stale", STALE, level="warning")
            return None
        changed = resume_problem(self.source, stored.position)  # a file replaced since, say
        if changed is not None:
            self._forget("state_stale", f"{changed}: starting from the beginning", "warning")
            return None
        # rendered when saved, by this same source after it read: some sources (sql) only know
        # their key columns once they ran their query
        self.resumed_from = stored.where or locate(self.source, stored.position)
        log.info("sync_resumed", after=self.resumed_from, saved_at=stored.saved_at.isoformat())
        self.resumed_saved_at = stored.saved_at
        return stored.position

    def mark_start(self) -> None:
        """Store "the beginning" (the empty position) before a run from the start writes any
        reject: if it is killed before its first mark, its rerun knows which reject lines it
        already wrote (those written after this save) and does not write them twice."""
        if self.dry_run:
            return
        try:
            self.store.save(self.key, START, self.fingerprint, "the beginning")
        except PositionCodecError:  # a store that cannot hold it: rejects may then repeat
            log.warning("state_not_saved", message="the start of the run could not be stored")

    def report(self, stats: SyncStats) -> None:
        stats.resumed_from = self.resumed_from
        stats.notes.extend(self.notes)

    def _forget(self, event: str, note: str, level: str = "info") -> None:
        self.notes.append(note)
        getattr(log, level)(event, message=note, state=self.store.describe())
        if not self.dry_run:
            self.store.clear(self.key)

    @property
    def on_checkpoint(self) -> Callable[[Position], None] | None:
        """What the pipeline calls when the low-water mark moves; a dry run saves nothing."""
        return None if self.dry_run else self.advance

    def advance(self, position: Position) -> None:
        self.latest = position
        self._pending += 1
        if self.events:
            return
        if self._pending >= self.every or self.clock() - self._saved_at >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.dry_run or self._broken or not self._pending or self.latest is None:
            return
        if self.before_save is not None:
            self.before_save()
        try:
            self.store.save(
                self.key, self.latest, self.fingerprint, locate(self.source, self.latest)
            )
        except PositionCodecError as exc:
            self._broken = True
            log.warning("state_not_saved", reason=str(exc), message="this sync cannot resume")
            return
        self._pending = 0
        self._saved_at = self.clock()

    def stored_after(self, clean: bool) -> str | None:
        """Where the next run starts (for the report): None when nothing is stored."""
        if self.dry_run or (self.events and not clean):  # the store as it was found
            return self.resumed_from
        if self._broken or (clean and not self.incremental):
            return None
        return locate(self.source, self.latest) if self.latest is not None else self.resumed_from

    def end(self, clean: bool) -> None:
        """Save the last mark; on a clean finish, clear it unless the sync is incremental."""
        if self.dry_run:
            return
        if self.changes is not None:  # what the API acknowledged, whatever else happened
            self.changes.flush()
        if clean and not self.incremental:
            if self.store.clear(self.key):
                log.info("state_cleared", reason="finished cleanly; the next run reads everything")
            return
        if self.events and not clean:  # the last clean run's mark stays (see `events`)
            return
        self.flush()
