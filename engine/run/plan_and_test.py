"""`omnisync plan` and `omnisync test`: run rows through a sync's mapping and checks, send nothing."""

from __future__ import annotations

import contextlib
import difflib
import json
import string
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.contracts import Destination, Endpoint, event_scope
from engine.errors import SpecError
from engine.pii import is_personal, mask_fields, mask_reason
from engine.plugins import Registry, load_registry
from engine.rows import Rejection, Row
from engine.run.assemble import compile_sync_mapping, open_destinations, open_source
from engine.run.failing_fields import Explainer
from engine.run.row_outcome import Decide, Filtered, compile_decide
from engine.run.runner import selected
from engine.specfile import Spec, SyncSpec
from engine.specfile.yaml_loader import dotted


@dataclass(frozen=True)
class Outcome:
    """What would happen to one row: send (with the record), filtered, or rejected (with why)."""

    verdict: str  # "send" | "filtered" | "rejected"
    record: Any = None
    field: str | None = None
    reason: str | None = None


def evaluate(decide: Decide, row: Row) -> Outcome:
    """The pipeline's own decision (engine/run/row_outcome.py), told as an outcome."""
    decision = decide(row)
    if isinstance(decision, Filtered):
        return Outcome("filtered", reason=decision.reason)
    if isinstance(decision, Rejection):
        return Outcome("rejected", decision.payload, decision.field, decision.reason)
    return Outcome("send", decision)


@dataclass
class PreviewRow:
    where: str
    values: Mapping[str, Any] | None
    outcome: Outcome
    problems: list[tuple[str, str]] = field(default_factory=list)  # every failing field


@dataclass
class SyncPreview:
    name: str
    rows: list[PreviewRow] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    personal: frozenset[str] = frozenset()  # record fields and source columns masked when shown
    events: bool = False  # an endpoint of events: who is skipped is in the store (plan --changes)


@contextlib.asynccontextmanager
async def _opened(
    spec: Spec, select: Sequence[str], registry: Registry
) -> AsyncIterator[list[tuple[SyncSpec, Destination, Endpoint]]]:
    """The selected syncs with their opened destination and endpoint (closed on exit)."""
    syncs = selected(spec, select)
    _refuse_unset_rules(spec, syncs)
    async with contextlib.AsyncExitStack() as stack:
        destinations = await open_destinations(stack, spec, syncs, registry)
        yield [
            (sync, d, d.endpoint(sync.destination))
            for sync in syncs
            if (d := destinations[sync.destination_type])
        ]


# what maps and checks a row: without these values no row can be judged
_RULES = frozenset({"destination", "mapping", "filter", "dedupe"})


def _refuse_unset_rules(spec: Spec, syncs: Sequence[SyncSpec]) -> None:
    """Offline, a value the mapping or the endpoint needs may not wait for its variable: say which,
    at its line, instead of judging rows with a placeholder (`endpoint: ${ENDPOINT}`)."""
    lines = []
    for sync in syncs:
        for path, names in spec.unset.items():
            if path[:2] == ("syncs", sync.index) and len(path) > 2 and path[2] in _RULES:
                where = spec.document.locate(path).where(str(spec.file))
                lines.append(
                    f"{where} {dotted(path)}: needs {', '.join(dict.fromkeys(names))}, which is "
                    f"not set: set it (or write the value in the spec) to map and check rows"
                )
    if lines:
        raise SpecError(sorted(lines))


async def preview(
    spec: Spec, select: Sequence[str], limit: int, registry: Registry | None = None
) -> list[SyncPreview]:
    """The first `limit` rows of each selected sync, mapped and checked."""
    registry = registry or load_registry()
    previews = []
    async with _opened(spec, select, registry) as syncs:
        for sync, destination, endpoint in syncs:
            mapping = compile_sync_mapping(sync, registry, destination)
            decide = compile_decide(mapping, endpoint, encode=True)
            explain = Explainer(sync, registry, destination, endpoint)
            source = open_source(spec, sync, registry)
            personal = endpoint.personal_fields | personal_columns(sync.mapping, endpoint)
            result = SyncPreview(sync.name, personal=personal)
            result.events = event_scope(endpoint) is not None
            async for row in source.read(None):
                outcome = evaluate(decide, row)
                shown = PreviewRow(source.locate(row.position), row.values, outcome)
                if outcome.verdict == "rejected" and row.values is not None:
                    shown.problems = (
                        explain.record_problems(outcome.record)
                        if outcome.record is not None
                        else explain.mapping_problems(row.values)
                    )
                result.rows.append(shown)
                result.counts[outcome.verdict] += 1
                if len(result.rows) >= limit:
                    break
            previews.append(result)
    return previews


# -- mapping tests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    sync: str
    name: str
    passed: bool
    detail: str = ""


def load_cases(spec: Spec, sync: SyncSpec) -> list[dict[str, Any]]:
    """Cases from the sync's `tests:` block, then from `<spec>.tests.yaml` beside the spec."""
    cases = list(spec.document.data["syncs"][sync.index].get("tests", []))
    sibling = spec.file.with_name(spec.file.stem + ".tests.yaml")
    if sibling.exists():
        try:
            extra = yaml.safe_load(sibling.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SpecError([f"{sibling}: invalid YAML: {exc}"]) from None
        if not isinstance(extra, dict):
            raise SpecError([f"{sibling}: expected a mapping of sync name -> list of cases"])
        cases += list(extra.get(sync.name, []))
    return cases


async def run_mapping_tests(
    spec: Spec, select: Sequence[str], registry: Registry | None = None
) -> list[CaseResult]:
    registry = registry or load_registry()
    results = []
    async with _opened(spec, select, registry) as syncs:
        for sync, destination, endpoint in syncs:
            for i, case in enumerate(load_cases(spec, sync)):
                # a fresh mapping per case, so de-duplication state never leaks between cases
                mapping = compile_sync_mapping(sync, registry, destination)
                name = str(case.get("name") or f"case {i + 1}")
                outcome = evaluate(
                    compile_decide(mapping, endpoint, encode=True), Row(case.get("row") or {}, ())
                )
                results.append(CaseResult(sync.name, name, *_judge_case(case, outcome)))
    return results


def _judge_case(case: Mapping[str, Any], outcome: Outcome) -> tuple[bool, str]:
    if case.get("expect_filtered"):
        return outcome.verdict == "filtered", f"expected the row filtered, got {_said(outcome)}"
    if "expect_reject" in case:
        wanted = str(case["expect_reject"])
        text = f"{outcome.field or ''}: {outcome.reason or ''}"
        ok = outcome.verdict == "rejected" and wanted in text
        return ok, f"expected a rejection mentioning {wanted!r}, got {_said(outcome)}"
    expected = case.get("expect")
    if outcome.verdict != "send":
        return False, f"expected a record, got {_said(outcome)}"
    if outcome.record == expected:
        return True, ""
    return False, _diff(expected, outcome.record)


def _said(outcome: Outcome) -> str:
    if outcome.verdict == "rejected":
        return f"rejected ({outcome.field}: {outcome.reason})"
    if outcome.verdict == "filtered":
        return f"filtered ({outcome.reason})"
    return f"record {json.dumps(outcome.record, ensure_ascii=False, default=str)}"


def _diff(expected: Any, actual: Any) -> str:
    def lines(value: Any) -> list[str]:
        text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        return text.splitlines()

    diff = difflib.unified_diff(lines(expected), lines(actual), "expected", "actual", lineterm="")
    return "\n".join(diff)


def render_preview(previews: list[SyncPreview], reveal: bool = False) -> str:
    """Rows, records and reasons; personal values masked unless `reveal` (--reveal-pii)."""
    out: list[str] = []
    for sync in previews:
        out.append(f"== {sync.name}")
        for row in sync.rows:
            o = row.outcome
            reason = o.reason or ""
            if not reveal and o.verdict == "rejected":
                reason = mask_reason(reason, o.field, sync.personal)
            status = {"send": "send", "filtered": f"filtered ({reason})"}.get(
                o.verdict, f"REJECTED {o.field or ''}: {reason}"
            )
            others = [p for p in row.problems if p != (o.field, o.reason)]
            if o.verdict == "rejected" and others:
                status += "".join(f"; {name}: {reason}" for name, reason in others)
            out.append(f"{row.where}  {status}")
            values = row.values if reveal else mask_fields(row.values, sync.personal)
            out.append(f"  row:    {_compact(values)}")
            if o.record is not None:
                record = o.record if reveal else mask_fields(o.record, sync.personal)
                out.append(f"  record: {_compact(record)}")
        counts = sync.counts
        out.append(
            f"{sync.name}: {len(sync.rows)} rows: would send {counts['send']}, "
            f"filter {counts['filtered']}, reject {counts['rejected']}"
        )
        if sync.events:
            out.append(
                f"{sync.name}: triggers, each member once per window: `plan --changes` or "
                "`run --dry-run` reads the marks and says who would be triggered and who is "
                "skipped"
            )
    return "\n".join(out)


def personal_columns(mapping: Mapping[str, Any], endpoint: Endpoint) -> frozenset[str]:
    """Source columns feeding a personal field, so `plan` masks them in the rows it shows too."""
    columns: set[str] = set()
    for target, definition in mapping.items():
        if not is_personal(target, endpoint.personal_fields):
            continue
        if isinstance(definition, str):
            columns.add(definition)
        elif isinstance(definition, Mapping):
            columns.update(str(c) for c in definition.get("coalesce", []))
            if "from" in definition:
                columns.add(str(definition["from"]))
            template = definition.get("template")
            if isinstance(template, str):
                columns.update(n for _, n, _, _ in string.Formatter().parse(template) if n)
    return frozenset(columns)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
