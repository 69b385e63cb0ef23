"""What the next run would do, counted before it runs: `omnisync plan --changes` and the
pre-flight check of `expect.max_changed_share`, one implementation.

A dry run of the selected syncs (the same reader, mapping, checks, resume point and change screen
as a real run, nothing sent, nothing saved) whose change screens are watched: a record the screen
lets through is *new* when the store has no digest for its key, *changed* when it has another one.
The store keeps digests, not values; each digest holds one byte of a keyed hash per field slot
(change_detection.FieldSlots), so the fields in which a changed record differs from what was last
sent are named from the slots that differ, never from a value."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.errors import ExpectationBreached
from engine.pii import mask
from engine.plugins import Registry, load_registry
from engine.rows import Record
from engine.run import expect
from engine.run.pipeline import SyncPlan
from engine.run.runner import RunOptions, run_spec, selected
from engine.specfile import Spec
from engine.state.change_detection import PENDING, ChangeDetector, slots_differing

SAMPLES = 5  # keys shown per kind
NOT_TOLD = "(not told apart: a value's type, or 1 time in 256)"
AGAIN = "(none: the key came twice in the source)"


@dataclass
class SyncChanges:
    """One sync's next run, predicted."""

    sync: str
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    filtered: int = 0
    left_source: int = 0  # sent by an earlier run, no longer in the source (a full read only)
    compared: bool = True  # False: no change detection, every record is sent
    # changed records by field that differs from what was last sent, most first
    fields: dict[str, int] = field(default_factory=dict)
    fields_unknown: int = 0  # changed records whose last send was never acknowledged
    samples: dict[str, list[str]] = field(default_factory=lambda: {"new": [], "changed": []})
    batch_size: int = 0
    rate: float = 0.0  # requests per second the endpoint allows
    # an event sync (docs/triggers.md): `new` counts the keys it would trigger
    events: bool = False
    skipped: int = 0  # already triggered within the window
    unknown: int = 0  # an earlier trigger's outcome unknown: not sent again

    @property
    def to_send(self) -> int:
        return self.new + self.changed

    @property
    def requests(self) -> int:
        return math.ceil(self.to_send / self.batch_size) if self.batch_size else 0

    @property
    def seconds(self) -> float:
        """The delivery time at the API's rate: requests over requests per second."""
        return self.requests / self.rate if self.rate else 0.0


class _Watcher:
    """Counts each change screen of one sync, split new / changed by a second digest lookup."""

    def __init__(self, found: SyncChanges, plan: SyncPlan, detector: ChangeDetector) -> None:
        self.found, self.detector = found, detector
        self.key = plan.endpoint.key
        self.counts: Counter[str] = Counter()
        found.batch_size, found.rate = plan.batch_size, plan.limiter.rate

    def __call__(self, changed: list[Record], unchanged: list[Record]) -> None:
        found, detector = self.found, self.detector
        found.unchanged += len(unchanged)
        stored = detector.last_stored  # the screen's own lookup of these records
        # a source that compares in place keeps one digest a row: no field slots to tell apart
        slotted = not getattr(detector, "marks_rows", False)
        for record in changed:
            held = stored.get(record.mark[0]) if record.mark is not None else None
            kind = "new" if held is None else "changed"
            setattr(found, kind, getattr(found, kind) + 1)
            if len(found.samples[kind]) < SAMPLES:
                found.samples[kind].append(str(mask(self.key(record.payload) or "(no key)")))
            if held is not None and record.mark is not None and slotted:
                self._fields(held, record.mark[1])

    def _fields(self, held: bytes, digest: bytes) -> None:
        if held == PENDING:
            self.found.fields_unknown += 1
            return
        if held == digest:  # the same content: its key came earlier in this read
            self.counts[AGAIN] += 1
            return
        differ = slots_differing(held, digest)
        names = [" or ".join(self.detector.slots.names(slot)) for slot in differ]
        for name in names or [NOT_TOLD]:
            self.counts[name or "a field no longer sent"] += 1

    def done(self) -> None:
        self.found.fields = dict(self.counts.most_common())


async def predict(
    spec: Spec,
    select: Sequence[str] = (),
    registry: Registry | None = None,
    removed: bool = True,
) -> list[SyncChanges]:
    """Read every selected sync's whole source and compare it with the store; send nothing.
    `removed`: also count the records that would leave the source (from the run history)."""
    registry = registry or load_registry()
    found = {sync.name: SyncChanges(sync.name) for sync in selected(spec, select)}

    watchers: list[_Watcher] = []

    def watch(
        plan: SyncPlan, detector: ChangeDetector
    ) -> Callable[[list[Record], list[Record]], None]:
        watchers.append(_Watcher(found[plan.name], plan, detector))
        return watchers[-1]

    options = RunOptions(select=select, dry_run=True, watch=watch, predict_removed=removed)
    result = await run_spec(spec, options, registry)
    for watcher in watchers:
        watcher.done()
    for stats in result.syncs:
        item = found[stats.sync]
        item.read, item.rejected, item.filtered = stats.read, stats.rejected, stats.filtered
        item.left_source = stats.left_source
        item.unchanged = stats.unchanged  # also the rows a source compared and kept (in_source)
        if stats.events:  # the trigger marks were looked up, not digests
            item.events, item.new, item.skipped, item.unknown = (
                True,
                stats.unsent,
                stats.skipped,
                stats.unknown,
            )
            item.samples = {"trigger": stats.would_trigger[:SAMPLES]}
            item.samples["skipped"] = stats.skipped_keys[:SAMPLES]
        elif not item.batch_size:  # no change detection: every record goes, none compared
            item.compared, item.new = False, stats.unsent
    return list(found.values())


async def check_changed_share(
    spec: Spec, options: RunOptions, registry: Registry | None = None
) -> None:
    """Before a real run: refuse it (ExpectationBreached, nothing sent) when a sync with
    `expect.max_changed_share` would send again more of its known records than that."""
    if options.dry_run or options.full_refresh:  # nothing sent; or a resend asked for
        return
    bounded = [
        s.name
        for s in selected(spec, options.select)
        if s.expect.max_changed_share is not None and s.change_detection
    ]
    if not bounded:
        return
    by_name = {s.name: s for s in spec.syncs}
    lines = [
        f"{item.sync}: {message}"
        for item in await predict(spec, bounded, registry, removed=False)
        if (
            message := expect.changed_share_breach(
                by_name[item.sync].expect, item.changed, item.unchanged
            )
        )
    ]
    if lines:
        raise ExpectationBreached("\n".join(lines))


def as_dict(item: SyncChanges) -> dict[str, object]:
    data = dataclasses.asdict(item)
    data.update(to_send=item.to_send, requests=item.requests, seconds=round(item.seconds, 1))
    return data
