"""What the next run would do, counted before it runs: `omnisync plan --changes` and the
pre-flight check of `expect.max_changed_share`, one implementation.

A dry run of the selected syncs (the same reader, mapping, checks, resume point and change screen
as a real run, nothing sent, nothing saved) whose change screens are watched: a record the screen
lets through is *new* when the store has no digest for its key, *changed* when it has another one.
The store keeps digests, not values, so which fields changed cannot be told from it: the plan says
so rather than guess."""

from __future__ import annotations

import dataclasses
import math
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
from engine.state.change_detection import ChangeDetector

SAMPLES = 5  # keys shown per kind
FIELDS_NOTE = (
    "the store keeps digests of what was sent, not the values: which fields changed is not known"
)


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
    compared: bool = True  # False: no change detection, every record is sent
    samples: dict[str, list[str]] = field(default_factory=lambda: {"new": [], "changed": []})
    batch_size: int = 0
    rate: float = 0.0  # requests per second the endpoint allows

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
        found.batch_size, found.rate = plan.batch_size, plan.limiter.rate

    def __call__(self, changed: list[Record], unchanged: list[Record]) -> None:
        found, detector = self.found, self.detector
        found.unchanged += len(unchanged)
        hashes = [r.mark[0] for r in changed if r.mark is not None]
        if getattr(detector, "marks_rows", False):  # compared in the source: its own lookup
            stored = detector.last_stored
        else:
            stored = detector.store.lookup_digests(detector.sync_key, hashes) if hashes else {}
        for record in changed:
            kind = "changed" if record.mark is not None and record.mark[0] in stored else "new"
            setattr(found, kind, getattr(found, kind) + 1)
            if len(found.samples[kind]) < SAMPLES:
                found.samples[kind].append(str(mask(self.key(record.payload) or "(no key)")))


async def predict(
    spec: Spec, select: Sequence[str] = (), registry: Registry | None = None
) -> list[SyncChanges]:
    """Read every selected sync's whole source and compare it with the store; send nothing."""
    registry = registry or load_registry()
    found = {sync.name: SyncChanges(sync.name) for sync in selected(spec, select)}

    def watch(
        plan: SyncPlan, detector: ChangeDetector
    ) -> Callable[[list[Record], list[Record]], None]:
        return _Watcher(found[plan.name], plan, detector)

    result = await run_spec(spec, RunOptions(select=select, dry_run=True, watch=watch), registry)
    for stats in result.syncs:
        item = found[stats.sync]
        item.read, item.rejected, item.filtered = stats.read, stats.rejected, stats.filtered
        item.unchanged = stats.unchanged  # also the rows a source compared and kept (in_source)
        if not item.batch_size:  # no change detection: every record goes, none compared
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
        for item in await predict(spec, bounded, registry)
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
