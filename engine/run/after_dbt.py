"""`omnisync run --after-dbt target/run_results.json`: run the syncs whose dbt model was built.

dbt writes run_results.json after every `dbt run` or `dbt build`: one result per node, with its
`unique_id` (`model.<project>.<name>`) and `status` (success, error, skipped...). A sync reads a
dbt model when its source names one (the sql source's `dbt: {ref: ...}`; a source class says so
through `engine.contracts.ReadsDbtModel`). Only syncs whose model succeeded in that run run; every
other selected sync is reported as skipped with the reason, and so is a sync that depends on a
skipped one. Skipped is not a failure: the exit code is the run's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.contracts import dbt_model_of
from engine.errors import OmnisyncError
from engine.plugins import load_registry
from engine.specfile import Spec

RunResults = dict[str, Any]  # model name -> {"status": ..., "message": ..., "unique_id": ...}


def read_run_results(path: Path) -> RunResults:
    """The models of a dbt run_results.json by name; a file dbt did not write is refused."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OmnisyncError(f"{path}: cannot read dbt run results: {exc}") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise OmnisyncError(f"{path}: not a dbt run_results.json (no `results` list)")
    models: RunResults = {}
    for result in results:
        unique_id = str(result.get("unique_id", "")) if isinstance(result, dict) else ""
        kind, _, rest = unique_id.partition(".")
        if kind != "model" or "." not in rest:
            continue  # tests, seeds and snapshots feed no sync
        name = rest.split(".")[1]  # model.<project>.<name>[.v<version>]
        models[name] = {
            "status": str(result.get("status")),
            "message": str(result.get("message") or "").strip().splitlines()[:1],
            "unique_id": unique_id,
        }
    return models


def choose(
    spec: Spec, select: Sequence[str], results: RunResults
) -> tuple[tuple[str, ...], dict[str, str]]:
    """(the syncs to run, {sync: why it is skipped}) among the selected ones (or the enabled)."""
    registry = load_registry()
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for sync in spec.syncs:
        if (select and sync.name not in select) or (not select and not sync.enabled):
            continue
        plugin = registry.sources.get(sync.source_type)
        model = dbt_model_of(plugin, sync.source) if plugin is not None else None
        why = _why_not(model, results)
        waits = [d for d in sync.depends_on if d in skipped]
        if why is None and waits:
            why = f"skipped: it depends on {waits[0]}, which was skipped"
        if why is None:
            chosen.append(sync.name)
        else:
            skipped[sync.name] = why
    return tuple(chosen), skipped


def _why_not(model: str | None, results: Mapping[str, Any]) -> str | None:
    if model is None:
        return "skipped: it reads no dbt model (--after-dbt runs only the syncs that read one)"
    found = results.get(model)
    if found is None:
        return f"skipped: dbt model {model} was not built by this dbt run (not in run_results.json)"
    if found["status"] != "success":
        message = f": {found['message'][0]}" if found["message"] else ""
        return f"skipped: dbt model {model} ended with status {found['status']}{message}"
    return None
