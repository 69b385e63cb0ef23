"""`omnisync plan SPEC --changes`: the next run's counts per sync, as text or as Markdown ready
to post on a pull request (the example workflow does), or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.run.change_plan import SyncChanges


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{rest:02d}s"


def _time(item: SyncChanges) -> str:
    if not item.to_send:
        return "nothing to send"
    if not item.rate:
        return "unknown (no change detection: rate not looked up)"
    return (
        f"about {_duration(item.seconds)} ({item.requests} "
        f"request{'' if item.requests == 1 else 's'} of up to {item.batch_size} "
        f"records at {item.rate:g}/s, retries not counted)"
    )


def _samples(item: SyncChanges) -> list[str]:
    return [f"sample {kind} keys: {', '.join(keys)}" for kind, keys in item.samples.items() if keys]


def _triggers(item: SyncChanges) -> str:
    """An event sync: who would be triggered, who is skipped (docs/triggers.md)."""
    return (
        f"{item.sync}: read {item.read}: would trigger {item.new}, skipped (already triggered "
        f"in the window) {item.skipped}, outcome unknown {item.unknown}, rejected "
        f"{item.rejected}, filtered {item.filtered}"
    )


def _fields(item: SyncChanges) -> list[str]:
    """Which fields of the changed records differ from what was last sent, most first."""
    lines = []
    if item.fields:
        shown = ", ".join(f"{name} {count}" for name, count in item.fields.items())
        lines.append(f"fields that differ from what was last sent: {shown}")
    if item.fields_unknown:
        lines.append(
            f"fields not known for {item.fields_unknown}: their last send was never acknowledged"
        )
    return lines


def text(found: Sequence[SyncChanges]) -> str:
    lines: list[str] = []
    for item in found:
        if item.events:
            lines.append(_triggers(item))
            lines += [f"  {line}" for line in _samples(item)]
            continue
        lines.append(
            f"{item.sync}: read {item.read}: new {item.new}, changed {item.changed}, "
            f"unchanged {item.unchanged}, left the source {item.left_source}, "
            f"rejected {item.rejected}, filtered {item.filtered}"
        )
        if not item.compared:
            lines.append("  change detection is off: every record is sent")
        lines += [f"  {line}" for line in _samples(item)]
        lines += [f"  {line}" for line in _fields(item)]
        lines.append(f"  time at the API's rate: {_time(item)}")
    return "\n".join(lines)


def markdown(found: Sequence[SyncChanges], spec: str) -> str:
    lines = [
        f"### omnisync change plan: `{spec}`",
        "",
        "| sync | read | new | changed | unchanged | left the source | rejected | filtered "
        "| time at the API's rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for item in found:
        lines.append(
            f"| {item.sync} | {item.read} | {item.new} | {item.changed} | {item.unchanged} | "
            f"{item.left_source} | {item.rejected} | {item.filtered} | {_time(item)} |"
        )
    notes = [f"- {_triggers(item)}" for item in found if item.events]
    notes += [
        f"- {item.sync}: {line}" for item in found for line in [*_samples(item), *_fields(item)]
    ]
    notes += [
        f"- {item.sync}: change detection is off: every record is sent"
        for item in found
        if not item.compared
    ]
    return "\n".join([*lines, *(["", *notes] if notes else [])]) + "\n"


def as_json(found: Sequence[SyncChanges]) -> str:
    from engine.run.change_plan import as_dict

    return json.dumps([as_dict(item) for item in found], indent=2, ensure_ascii=False)
