"""`omnisync state show|reset FILE`: what each sync of a spec would resume from, and forgetting it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine import logging as omnilog
from engine.cli._params import SPEC_FILE
from engine.errors import OmnisyncError
from engine.plugins import load_registry
from engine.specfile import load_spec_hiding_secrets

if TYPE_CHECKING:
    from engine.plugins import Registry
    from engine.rows import Position
    from engine.specfile import Spec, SyncSpec
    from engine.state.base import StateStore
    from engine.state.identity import StateIdentity


@click.group(name="state")
def state_group() -> None:
    """Inspect or reset the stored positions (where each sync resumes)."""


@state_group.command()
@click.argument("file", type=SPEC_FILE)
def show(file: Path) -> None:
    """Each sync's stored position, when it was saved, and whether it still fits the source."""
    from engine.run.resume import open_store, spec_identity

    spec = load_spec_hiding_secrets(file)
    registry = load_registry()
    store = open_store(spec, registry)
    identity = spec_identity(spec, registry)
    try:
        click.echo(f"state: {store.describe()}")
        click.echo(f"identity: {identity.scope} ({identity.origin})")
        for sync in spec.syncs:
            _show_sync(spec, sync, store, identity, registry)
        for orphan in store.entries(identity.key("")):
            name = identity.sync_of(orphan.sync_key)
            if name is not None and name not in {sync.name for sync in spec.syncs}:
                click.echo(f"{name}: after {orphan.where}, no such sync in the spec any more")
    finally:
        store.close()


def _holds_generation(store: StateStore, key: str) -> bool:
    """The one digest an in-source sync keeps in the state store is its generation mark, not a
    record's."""
    from engine.run.in_source import GENERATION_KEY

    return GENERATION_KEY in store.lookup_digests(key, [GENERATION_KEY])


def _show_sync(
    spec: Spec, sync: SyncSpec, store: StateStore, identity: StateIdentity, registry: Registry
) -> None:
    from engine.run.resume import sync_fingerprint
    from engine.state.moving import holds_state

    key, former = identity.key(sync.name), identity.former_key(sync.name)
    if key != former and not holds_state(store, key) and holds_state(store, former):
        click.echo(f"{sync.name}: stored under its former key {former} (the next run moves it)")
        key = former
    stored = store.load(key)
    digests = store.count_digests(key)
    if sync.in_source is not None and digests == 1 and _holds_generation(store, key):
        named = ".".join(
            str(sync.in_source[k]) for k in ("schema", "table") if sync.in_source.get(k)
        )
        where = f"table {named}" if named else "its default digest table"
        click.echo(f"{sync.name}: record digests kept in the source database ({where})")
    elif digests:
        click.echo(f"{sync.name}: {digests} record digests (unchanged records are skipped)")
    _show_triggers(sync.name, store, key)
    if stored is None:
        click.echo(f"{sync.name}: no stored position (the next run reads from the start)")
        return
    if stored.position is None:
        verdict = f"{stored.problem}: the next run refuses to start; `state reset` clears it"
    elif stored.fingerprint == sync_fingerprint(spec, sync):
        verdict = _still_fits(spec, sync, registry, stored.position)
    else:
        verdict = "stale: the source changed (the next run reads from the start)"
    kind = "incremental" if sync.cursor else "resume"
    saved = stored.saved_at.isoformat(timespec="seconds")
    click.echo(
        omnilog.redact(f"{sync.name}: after {stored.where} ({kind}), saved {saved}, {verdict}")
    )


def _show_triggers(name: str, store: StateStore, key: str) -> None:
    """An event sync's marks (docs/triggers.md): confirmed, and pending (outcome unknown)."""
    from engine.state.triggers import trigger_store

    marks = trigger_store(store)
    counts = marks.counts(key + "#") if marks is not None else {}
    if counts:
        click.echo(
            f"{name}: trigger marks: {counts.get('confirmed', 0)} confirmed, "
            f"{counts.get('pending', 0)} pending (sent, outcome unknown unless a run is on)"
        )


def _still_fits(spec: Spec, sync: SyncSpec, registry: Registry, position: Position) -> str:
    """The verdict on a position whose fingerprint matches: the source may know its data changed
    (a file replaced under the same name), which the next run starts over for."""
    from engine.contracts import resume_problem
    from engine.run.columns import source_of

    try:
        changed = resume_problem(source_of(spec, sync, registry), position)
    except OmnisyncError as exc:  # the source cannot be reached from here: say what was checked
        return f"fingerprint ok (the source itself was not checked: {exc})"
    if changed is not None:
        return f"stale: {changed} (the next run reads from the start)"
    return "fingerprint ok"


@state_group.command()
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@click.option(
    "--triggers",
    "forget_triggers",
    is_flag=True,
    help="Also forget the trigger marks of event syncs: the next run triggers every member again.",
)
def reset(file: Path, select: tuple[str, ...], forget_triggers: bool) -> None:
    """Forget stored positions (all syncs of the spec by default): the next run reads everything."""
    from engine.run.resume import open_store, spec_identity
    from engine.run.runner import selected  # the delivery stack: imported only by this command
    from engine.state.triggers import trigger_store

    spec = load_spec_hiding_secrets(file)
    registry = load_registry()
    store = open_store(spec, registry)
    identity = spec_identity(spec, registry)
    try:
        names = [s.name for s in selected(spec, select)] if select else None
        if names is None:  # every key of this spec, including syncs since removed from it
            stored = [identity.sync_of(e.sync_key) for e in store.entries(identity.key(""))]
            names = sorted({*(n for n in stored if n), *(s.name for s in spec.syncs)})
        for name in names:
            # and what a former omnisync stored under the spec's file name, which a run would move
            keys = dict.fromkeys([identity.key(name), identity.former_key(name)])
            cleared = [store.clear(key) for key in keys]
            digests = sum(store.clear_digests(key) for key in keys)
            what = [
                *(["position"] if any(cleared) else []),
                *([f"{digests} record digests"] if digests else []),
            ]
            marks = trigger_store(store)
            if marks is not None and forget_triggers:
                if found := marks.clear(identity.key(name) + "#"):
                    what.append(f"{found} trigger marks")
            elif marks is not None and (
                kept := sum(marks.counts(identity.key(name) + "#").values())
            ):
                click.echo(
                    f"{name}: {kept} trigger marks kept (forgetting them triggers those members "
                    "again: --triggers)"
                )
            click.echo(
                f"{name}: " + (f"cleared {' and '.join(what)}" if what else "no stored position")
            )
        if not names:
            click.echo("no stored position")
    finally:
        store.close()
