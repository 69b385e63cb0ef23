"""validate, plan and run from Python, through the code the commands run (no second path).

Every error is an `OmnisyncError` whose `exit_code` is what the command would have exited with:
`SpecError` (2) for an invalid spec, `RunFailed` (the run's code: 1, 3, 130...) from
`RunReport.raise_for_exit()`, `OmnisyncError` (1) for a source, store or destination that failed
before the syncs ran.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import logging as omnilog
from engine.errors import SpecError
from omnisync.report import RunReport

SpecPath = str | os.PathLike[str]


@dataclass(frozen=True)
class SyncInfo:
    """One sync of a valid spec, as an orchestrator lays it out."""

    name: str
    enabled: bool
    depends_on: tuple[str, ...]
    source: str  # the source's type: csv, sql, ...
    endpoint: str | None  # the destination's endpoint, when its block names one
    max_reject_ratio: float
    dbt_model: str | None  # the dbt model the source reads (`sql: {dbt: {ref: ...}}`)


@dataclass(frozen=True)
class SpecInfo:
    """A spec that passed `validate`: its file, its syncs in order, and the notes it raised."""

    file: Path
    syncs: tuple[SyncInfo, ...]
    notes: tuple[str, ...]

    def sync(self, name: str) -> SyncInfo:
        for sync in self.syncs:
            if sync.name == name:
                return sync
        raise KeyError(name)


def validate(spec: SpecPath, *, offline: bool = False, require_env: bool = True) -> SpecInfo:
    """What `omnisync validate` checks: the spec, then (unless `offline`) the columns each sync
    names, in its source. Raises SpecError (exit code 2) with every problem at its file and line.
    `require_env=False` takes an unset ${VAR} as a note, as validate does without --require-env."""
    from engine.contracts import dbt_model_of
    from engine.plugins import load_registry
    from engine.run.columns import column_problems
    from engine.specfile import load_spec_hiding_secrets

    loaded = load_spec_hiding_secrets(Path(spec), allow_unset=not require_env)
    if not offline and not loaded.notes:
        missing, _skipped = column_problems(loaded)
        if missing:
            raise SpecError(missing)
    registry = load_registry()
    syncs = tuple(
        SyncInfo(
            name=s.name,
            enabled=s.enabled,
            depends_on=s.depends_on,
            source=s.source_type,
            endpoint=s.destination.get("endpoint"),
            max_reject_ratio=s.max_reject_ratio,
            dbt_model=dbt_model_of(registry.sources.get(s.source_type), s.source),
        )
        for s in loaded.syncs
    )
    return SpecInfo(loaded.file, syncs, loaded.notes)


@dataclass(frozen=True)
class SyncPreview:
    """`omnisync plan` for one sync: how many of the first rows would be sent, filtered or
    rejected, and the preview as the command prints it (personal data masked unless revealed)."""

    sync: str
    send: int
    filtered: int
    rejected: int
    text: str


def plan(
    spec: SpecPath, *, select: Sequence[str] = (), rows: int = 10, reveal_pii: bool = False
) -> tuple[SyncPreview, ...]:
    """What the first `rows` rows of each selected sync would become; nothing is sent."""
    import asyncio

    from engine.run.plan_and_test import preview, render_preview
    from engine.specfile import load_spec_hiding_secrets

    loaded = load_spec_hiding_secrets(Path(spec))
    previews = asyncio.run(preview(loaded, tuple(select), rows))
    return tuple(
        SyncPreview(
            p.name,
            p.counts["send"],
            p.counts["filtered"],
            p.counts["rejected"],
            omnilog.redact(render_preview([p], reveal=reveal_pii)),
        )
        for p in previews
    )


def run(
    *specs: SpecPath,
    select: Sequence[str] = (),
    dry_run: bool = False,
    full_refresh: bool = False,
    fail_fast: bool = False,
    after_dbt: SpecPath | None = None,
    reveal_pii: bool = False,
    report: SpecPath | None = None,
    resend_unknown: bool = False,
) -> RunReport:
    """Run the specs in order, as `omnisync run` does, and return the report.

    A run that ran returns its report whatever its exit: check `report.ok`, or call
    `report.raise_for_exit()` to raise RunFailed. A spec that is invalid (SpecError) or that
    stopped before its syncs ran (OmnisyncError: a source or destination that cannot be
    opened) raises. No signal handler is installed: the caller (a worker) owns its signals, and a
    run killed midway resumes from its stored position next time. `report` also writes the JSON
    report file. `resend_unknown`: `run --resend-unknown` (docs/triggers.md). Logs go through
    structlog as the command's do (omnisync.configure_logging)."""
    from engine.outcomes.report import open_private
    from engine.run.command import load_specs, run_command
    from engine.run.runner import RunOptions

    if not specs:
        raise TypeError("run() needs at least one spec file")
    loaded = load_specs([Path(s) for s in specs], tuple(select))
    options = RunOptions(
        select=tuple(select), dry_run=dry_run, reveal_pii=reveal_pii, full_refresh=full_refresh
    )
    options.fail_fast = fail_fast
    options.resend_unknown = resend_unknown
    dbt = Path(after_dbt) if after_dbt is not None else None
    found = run_command(loaded, options, dbt, handle_signals=False)
    if found.failure is not None:
        raise found.failure
    data = found.report()
    if report is not None:
        import orjson

        with open_private(Path(report)) as handle:
            handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    error = omnilog.redact(found.error) if found.error else None
    return RunReport.from_dict(data, error=error)


def configure_logging(log_format: str | None = None, level: str = "info") -> None:
    """The command's logging set-up: `json` or `console` (default: console on a terminal)."""
    omnilog.configure(log_format, level)
