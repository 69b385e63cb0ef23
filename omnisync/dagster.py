"""Dagster: every sync of a spec as an asset, materialized by an omnisync run (extra `[dagster]`).

    from dagster import Definitions
    from omnisync.dagster import omnisync_assets

    defs = Definitions(assets=[omnisync_assets("specs/crm.yaml")])

One multi-asset per spec: an asset per sync (key: the sync's name under `key_prefix`), `depends_on`
as asset dependencies, and a sync that reads a dbt model depends on that model's asset (dagster-dbt
names it by the model). Materializing a subset runs those syncs only. The run happens in-process
through `omnisync.run`, or, with `pipes=True`, in a subprocess through Dagster Pipes (the child is
`python -m omnisync.pipes`; `pipes_command` runs it elsewhere, in a container or a pod, through
your own client and `pipes_results`). Each materialization carries the counts (rows_read,
delivered, unchanged, filtered, rejected, failed), the reject file and the run id; the asset check
`reject_ratio` holds the share of rejected rows to the sync's `max_reject_ratio`. A run that
exits non-zero fails the step with the run's error, after the syncs that delivered were
materialized. Dagster's retries rerun the step, and each sync resumes where the failed run's state
left it (docs/orchestrators.md).
"""

# no `from __future__ import annotations`: Dagster reads the `context` annotation at run time

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

import omnisync
from omnisync._materialization import REJECT_RATIO_CHECK, check_outcome, materializes, metadata
from omnisync.api import SpecInfo, SpecPath, SyncInfo
from omnisync.report import RunReport

__all__ = ["REJECT_RATIO_CHECK", "omnisync_assets", "pipes_command", "pipes_results"]


def omnisync_assets(
    spec: SpecPath,
    *,
    name: str | None = None,
    key_prefix: Sequence[str] = (),
    group_name: str | None = None,
    pipes: bool = False,
    dbt_deps: bool = True,
) -> dg.AssetsDefinition:
    """The spec's syncs as one multi-asset (checked with `omnisync.validate`, offline)."""
    info = omnisync.validate(spec, offline=True, require_env=False)
    stem = _identifier(info.file.stem)
    keys = {s.name: dg.AssetKey([*key_prefix, s.name]) for s in info.syncs}
    specs = [
        dg.AssetSpec(
            key=keys[s.name],
            deps=[keys[d] for d in s.depends_on] + (_dbt_dep(s, keys[s.name]) if dbt_deps else []),
            description=f"omnisync sync {s.name} of {info.file.name}: {s.source} -> {s.endpoint}",
            skippable=True,  # a sync that did not run (a failed dependency) materializes nothing
            kinds={"omnisync"},
            metadata={"spec": str(info.file), "sync": s.name},
        )
        for s in info.syncs
    ]
    checks = [
        dg.AssetCheckSpec(
            REJECT_RATIO_CHECK,
            asset=keys[s.name],
            description=f"rejected rows within max_reject_ratio ({s.max_reject_ratio:g})",
        )
        for s in info.syncs
    ]
    by_key = {key: sync for sync, key in keys.items()}

    @dg.multi_asset(
        name=name or f"omnisync_{stem}",
        specs=specs,
        check_specs=checks,
        can_subset=True,
        group_name=group_name or stem,
    )
    def _assets(context: dg.AssetExecutionContext) -> Iterator[Any]:
        selected = [by_key[key] for key in keys.values() if key in context.selected_asset_keys]
        if pipes:
            yield from _through_pipes(context, info, selected, keys)
            return
        report = omnisync.run(info.file, select=selected)
        yield from _results(report, info, keys)
        if not report.ok:
            raise _failure(report.error, int(report.exit_code), report.run_id)

    return _assets


def _results(
    report: RunReport, info: SpecInfo, keys: Mapping[str, dg.AssetKey]
) -> Iterator[dg.MaterializeResult[Any]]:
    """A materialization, with its check, for each sync that ran through to the end (also one
    over its reject ratio: it delivered); nothing for a sync that failed or did not run."""
    for sync in report.syncs:
        if not materializes(sync):
            continue
        passed, check = check_outcome(sync, info.sync(sync.sync).max_reject_ratio)
        yield dg.MaterializeResult(
            asset_key=keys[sync.sync],
            metadata=_typed(metadata(sync, report.run_id)),
            check_results=[
                dg.AssetCheckResult(
                    check_name=REJECT_RATIO_CHECK,
                    asset_key=keys[sync.sync],
                    passed=passed,
                    metadata=check,
                )
            ],
        )


def _typed(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pipes-style {"raw_value", "type"} values as Dagster's metadata values."""
    return {
        k: dg.MetadataValue.path(v["raw_value"])
        if isinstance(v, dict)
        else (dg.MetadataValue.null() if v is None else v)
        for k, v in raw.items()
    }


def _failure(error: str | None, exit_code: int, run_id: str) -> dg.Failure:
    return dg.Failure(
        description=f"omnisync run {run_id} exited {exit_code}: {error or 'failed'}",
        metadata={"exit_code": exit_code, "run_id": run_id},
    )


def pipes_command(spec: SpecPath, select: Sequence[str], keys: Mapping[str, str]) -> list[str]:
    """The child's command line: `python -m omnisync.pipes SPEC --select ... --key sync=a/b`."""
    command = [sys.executable, "-m", "omnisync.pipes", str(Path(spec))]
    for sync in select:
        command += ["--select", sync, "--key", f"{sync}={keys[sync]}"]
    return command


def pipes_results(invocation: dg.PipesClientCompletedInvocation) -> Iterator[Any]:
    """The child's materializations, then a Failure with the run's exit reason when it failed
    (the child reports the run and exits 0; a crash of the child fails in Dagster's client)."""
    yield from invocation.get_results(implicit_materializations=False)  # none for a failed sync
    for message in invocation.get_custom_messages():
        if isinstance(message, dict) and message.get("omnisync_exit_code"):
            raise _failure(
                message.get("error"), int(message["omnisync_exit_code"]), str(message["run_id"])
            )


def _through_pipes(
    context: dg.AssetExecutionContext,
    info: SpecInfo,
    selected: Sequence[str],
    keys: Mapping[str, dg.AssetKey],
) -> Iterator[Any]:
    client = dg.PipesSubprocessClient(cwd=str(info.file.parent))
    names = {s: keys[s].to_user_string() for s in selected}
    limits = {s: info.sync(s).max_reject_ratio for s in selected}
    invocation = client.run(
        context=context,
        command=pipes_command(info.file.resolve(), selected, names),
        extras={"max_reject_ratio": limits},
    )
    yield from pipes_results(invocation)


def _dbt_dep(sync: SyncInfo, key: dg.AssetKey) -> list[dg.AssetKey]:
    """The dbt model's asset (dagster-dbt keys a model by its name) upstream of the sync; none
    when the sync's own key is that name (a `key_prefix` tells them apart)."""
    model = dg.AssetKey([sync.dbt_model]) if sync.dbt_model else None
    return [model] if model is not None and model != key else []


def _identifier(text: str) -> str:
    """A Dagster name (letters, digits, underscores) from a spec's file name."""
    return re.sub(r"\W", "_", text) or "spec"
