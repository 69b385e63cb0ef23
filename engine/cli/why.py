"""`omnisync why SPEC KEY`: every run that saw one record key, and what became of it there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli._params import SPEC_FILE, reveal_pii_option
from engine.specfile import load_spec_hiding_secrets

if TYPE_CHECKING:
    from engine.state.ledger import RunRecord, Seen

ORDER = (
    "filtered",
    "rejected",
    "failed",
    "unchanged",
    "skipped",
    "unknown",
    "new",
    "changed",
    "sent",
    "triggered",
    "removed",
)


@click.command(name="why")
@click.argument("file", type=SPEC_FILE)
@click.argument("key")
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@reveal_pii_option("Show the key in clear.")
def why(file: Path, key: str, select: tuple[str, ...], fmt: str, reveal_pii: bool) -> None:
    """What happened to the record with this key (the destination's record key, e.g. a member
    number), run by run: sent, unchanged, rejected and why, filtered, left the source."""
    from engine.cli.history import open_history, selected_names
    from engine.pii import mask
    from engine.run.history import key_namespace
    from engine.state.change_detection import key_hash

    spec = load_spec_hiding_secrets(file)
    names = selected_names(spec, select)
    shown = key if reveal_pii else str(mask(key))
    store, ledger, identity = open_history(spec)
    try:
        runs = {run.run_id: run for run in ledger.runs(identity.scope)}
        answers = []
        for sync in (s for s in spec.syncs if s.name in names):
            hashed = key_hash(key_namespace(spec, sync), key)
            seen = [s for s in ledger.find(identity.key(sync.name), hashed) if s.run_id in runs]
            seen.sort(key=lambda s: (runs[s.run_id].started, s.run_id, ORDER.index(s.action)))
            answers.append((sync.name, [_event(s, runs[s.run_id]) for s in seen]))
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([{"sync": n, "key": shown, "runs": e} for n, e in answers], indent=2))
        return
    for name, events in answers:
        click.echo(f"{name}: {shown}")
        for line in _lines(events):
            click.echo(f"  {line}")


def _event(seen: Seen, run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": seen.run_id,
        "kind": run.kind,
        "started": run.started,
        "action": seen.action,
        "digest": seen.digest.hex() if seen.digest and any(seen.digest) else None,
        "reason": seen.reason,
    }


def _lines(events: list[dict[str, Any]]) -> list[str]:
    """One line per run, runs in a row where it was unchanged folded into one."""
    if not events:
        return ["no run in the kept history saw this key"]
    lines: list[str] = []
    index = 0
    while index < len(events):
        event = events[index]
        end = index
        while event["action"] == "unchanged" and end + 1 < len(events):
            if events[end + 1]["action"] != "unchanged":
                break
            end += 1
        if end > index:
            last = events[end]
            lines.append(
                f"unchanged since: runs {event['run_id']} to {last['run_id']} "
                f"({end - index + 1} runs, digest {_short(event['digest'])})"
            )
        else:
            lines.append(_words(event))
        index = end + 1
    return lines


def _short(digest: str | None) -> str:
    return digest[:16] if digest else "none"


def _words(event: dict[str, Any]) -> str:
    what = "replay" if event.get("kind") == "replay" else "run"  # `rejects replay`
    at = f"{what} {event['run_id']} at {event['started']}"
    action, reason = event["action"], event["reason"]
    return {
        "new": f"sent in {at} (new) with digest {_short(event['digest'])}",
        "changed": f"sent in {at} (changed) with digest {_short(event['digest'])}",
        "sent": f"sent in {at} (change detection off)",
        "unchanged": f"unchanged in {at} (digest {_short(event['digest'])}): not sent",
        "failed": f"failed in {at}: the API did not take it within the retry policy; the next "
        "run sends it again",
        "rejected": f"rejected in {at} because {reason}",
        "filtered": f"filtered in {at} by the rule: {reason}",
        "removed": f"left the source in {at} (omnisync had sent it; nothing was sent for it)",
        "triggered": f"triggered in {at} (the API acknowledged it)",
        "skipped": f"not triggered in {at}: already triggered within the sync's once_per window",
        "unknown": f"not triggered in {at}: an earlier trigger's outcome is unknown (see "
        "--resend-unknown)",
    }.get(action, f"{action} in {at}")
