"""`omnisync history SPEC`: the spec's runs, newest first, with each sync's counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli._params import SPEC_FILE
from engine.errors import OmnisyncError
from engine.specfile import load_spec_hiding_secrets

if TYPE_CHECKING:
    from engine.specfile import Spec
    from engine.state.base import StateStore
    from engine.state.identity import StateIdentity
    from engine.state.ledger import LedgerStore, RunRecord

COUNTS = (
    ("read", "read"),
    ("delivered", "delivered"),
    ("unchanged", "unchanged"),
    ("filtered", "filtered"),
    ("rejected", "rejected"),
    ("failed", "failed"),
    ("left_source", "left the source"),
)

TRIGGER_COUNTS = ("triggered", "skipped", "unknown")


def open_history(spec: Spec) -> tuple[StateStore, LedgerStore, StateIdentity]:
    """The spec's state store, its ledger and whose state it is; an error when the backend keeps
    no history."""
    from engine.plugins import load_registry
    from engine.run.resume import open_store, spec_identity
    from engine.state.ledger import ledger_of

    registry = load_registry()
    store = open_store(spec, registry)
    ledger = ledger_of(store)
    if ledger is None:
        store.close()
        raise OmnisyncError(f"the state store {store.describe()} keeps no run history")
    return store, ledger, spec_identity(spec, registry)


def selected_names(spec: Spec, select: tuple[str, ...]) -> list[str]:
    known = [sync.name for sync in spec.syncs]
    unknown = [name for name in select if name not in known]
    if unknown:
        raise OmnisyncError(
            f"no sync named {', '.join(map(repr, unknown))}; the spec has {', '.join(known)}"
        )
    return list(select) or known


@click.command(name="history")
@click.argument("file", type=SPEC_FILE)
@click.option("--select", "select", multiple=True, help="Only this sync (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the runs as one self-contained HTML page (charts over time).",
)
def history(
    file: Path, select: tuple[str, ...], limit: int, fmt: str, html_file: Path | None
) -> None:
    """The spec's runs, newest first: when, exit code, commit, CI run and each sync's counts."""
    spec = load_spec_hiding_secrets(file)
    names = selected_names(spec, select)
    store, ledger, identity = open_history(spec)
    try:
        runs = [r for r in ledger.runs(identity.scope) if set(r.syncs) & set(names)][:limit]
        if html_file is not None:
            _write_html(html_file, spec.file.name, store.describe(), runs, names)
        if fmt == "json":
            click.echo(json.dumps([_as_json(run, names) for run in runs], indent=2))
            return
        click.echo(f"history of {spec.file.name} in {store.describe()} (newest first)")
        if not runs:
            click.echo("no runs yet")
        for run in runs:
            click.echo(_headline(run))
            for name in names:
                if name in run.syncs:
                    click.echo(f"  {name}: {_counts(run.syncs[name])}")
    finally:
        store.close()


def _headline(run: RunRecord) -> str:
    if run.ended is None:
        ending = "did not finish (crashed, killed, or still running)"
    else:
        ending = f"ended {run.ended}, exit code {run.exit_code}"
    extra = "".join(
        f", {label} {value}"
        for label, value in (("commit", (run.commit or "")[:12]), ("CI", run.ci_url))
        if value
    )
    what = "run" if run.kind == "run" else "rejects replay"
    return f"{what} {run.run_id}: started {run.started}, {ending}{extra}"


def _counts(counts: dict[str, Any]) -> str:
    if "read" not in counts:
        return "no counts (the run did not finish)"
    text = ", ".join(f"{label} {counts.get(key, 0)}" for key, label in COUNTS)
    if "triggered" in counts:  # an event sync (docs/triggers.md)
        text += ", " + ", ".join(f"{k} {counts.get(k, 0)}" for k in TRIGGER_COUNTS)
    stopped = counts.get("stopped")
    return f"{text}; stopped: {stopped}" if stopped else text


def _as_json(run: RunRecord, names: list[str]) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "spec": run.spec,
        "started": run.started,
        "ended": run.ended,
        "exit_code": run.exit_code,
        "commit": run.commit,
        "ci_url": run.ci_url,
        "syncs": {name: counts for name, counts in run.syncs.items() if name in names},
    }


def _write_html(path: Path, spec: str, store: str, runs: list[RunRecord], names: list[str]) -> None:
    from engine.outcomes.history_html import render
    from engine.outcomes.report import open_private

    page = render(spec, store, [_as_json(run, names) for run in runs], names)
    with open_private(path) as handle:  # like the run page: owner-only
        handle.write(page.encode("utf-8"))
