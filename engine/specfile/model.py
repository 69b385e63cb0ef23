"""Typed spec objects, built only from a document that passed every check."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import logging as omnilog
from engine.contracts import Destination, fires_events, source_cursors, supports_lookback
from engine.errors import SpecError, SpecIssue
from engine.plugins import Registry, load_registry
from engine.specfile import defaults
from engine.specfile.batch_cap import batch_issues
from engine.specfile.depends import depends_issues
from engine.specfile.expect import Expect, parse_expect
from engine.specfile.interpolate import Interpolator
from engine.specfile.paths import reject_path, state_path_issues
from engine.specfile.schema import compose_schema, sync_rules_schema
from engine.specfile.sync_values import (
    EarlyStop,
    in_source_options,
    parse_early_stop,
    parse_rate,
    rate_issues,
    seconds,
)
from engine.specfile.unset import drop_optional, needs, structural, unset_note, whole_block
from engine.specfile.validate import coerce_from_env, format_issues, schema_issues, validity
from engine.specfile.yaml_loader import JsonPath, LocatedDocument, load_yaml


@dataclass(frozen=True)
class Delivery:
    batch_size: int | None = None
    rate_limit: float | None = None  # requests per second
    concurrency: int | None = None
    timeout: float = 60.0
    retry: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SyncSpec:
    index: int
    name: str
    source_type: str
    source: Mapping[str, Any]
    destination_type: str
    destination: Mapping[str, Any]
    mapping: Mapping[str, Any]
    delivery: Delivery
    max_reject_ratio: float
    reject_file: Path
    cursor: str | None
    enabled: bool
    filter: str | None = None
    dedupe_key: str | None = None
    early_stop: EarlyStop = field(default_factory=EarlyStop)
    depends_on: tuple[str, ...] = ()  # syncs that must finish first; the others run at once
    change_detection: bool = True  # skip records the API already has, by key and digest
    once_per: float | None = None  # seconds: an event endpoint sends a key once per this window
    # `change_detection: in_source`: the source compares rows with their digests itself; the
    # block's options (schema, table, key), empty for the short form
    in_source: Mapping[str, Any] | None = None
    lookback: float | None = None  # seconds: an incremental sql read starts this much earlier
    expect: Expect = field(
        default_factory=Expect
    )  # degraded-run conditions (engine/specfile/expect.py)

    @property
    def min_rows_for_reject_ratio(self) -> int:
        return self.early_stop.after


@dataclass(frozen=True)
class Spec:
    file: Path
    connections: Mapping[str, Mapping[str, Any]]
    syncs: tuple[SyncSpec, ...]
    state: Mapping[str, Any]
    secrets: frozenset[str]
    document: LocatedDocument
    # offline only: the paths whose value needs an unset variable, and one note for each
    unset: Mapping[JsonPath, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # located: plain values YAML 1.1 would have read otherwise (`yes`, `0123`, `12:30`)
    warnings: tuple[str, ...] = ()

    @property
    def directory(self) -> Path:
        return self.file.parent

    @property
    def state_scope(self) -> str | None:
        """`state: {scope: ...}`: whose state this is, when the spec says (engine/state/identity.py)."""
        scope = (self.state or {}).get("scope")
        return str(scope) if scope else None


def load_spec(
    path: Path,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
    allow_unset: bool = False,
) -> Spec:
    """Load, interpolate, validate against the composed schema and the plugins' own checks.

    Every problem is reported at once, as a SpecError whose lines name file, line, column and path.
    With allow_unset (checks in CI without secrets) an unset variable is a note: the checks of the
    values that need it are skipped, and the notes say which.
    """
    registry = registry or load_registry()
    interpolator = Interpolator(environ, allow_unset)
    doc = load_yaml(path, interpolator)
    schema = compose_schema(registry)
    valid = validity(schema)  # compiled once: coercion and the check below both ask it
    coerce_from_env(schema, doc, valid)
    in_destination = any(p[:1] == ("syncs",) and p[2:3] == ("destination",) for p in doc.from_env)
    if in_destination and (rules := sync_rules_schema(registry)) is not None:
        coerce_from_env(rules, doc)  # `is_anonymous: ${ANONYMOUS}` inside a destination's options
    issues = schema_issues(schema, doc.data, valid)
    if isinstance(doc.data, dict) and isinstance(doc.data.get("syncs"), list):
        broken = {i.path[1:3] for i in issues if i.path[:1] == ("syncs",) and len(i.path) > 2}
        top_level_ok = not any(i.path[:1] != ("syncs",) for i in issues)
        issues += _semantic_issues(doc.data, registry, skip=broken, connections=top_level_ok)
        issues += depends_issues(doc.data["syncs"])
        if top_level_ok:
            issues += defaults.issues(doc.data, registry)
        if not any(i.path[:1] == ("state",) for i in issues):
            issues += state_path_issues(doc.data.get("state"), path.parent)
    # an unset variable also leaves an empty value behind: report the cause, not the symptom
    issues = [i for i in issues if i.path not in doc.problems]
    unset = {p: tuple(names) for p, names in interpolator.unset.items()}
    skipped = {i.path for i in issues if needs(i.path, unset) and not structural(i.path)}
    issues = [
        whole_block(i) if needs(i.path, unset) else i for i in issues if i.path not in skipped
    ]
    lines = sorted([*doc.problems.values(), *format_issues(doc, issues)], key=_line_order)
    notes = tuple(unset_note(doc, where, names) for where, names in sorted(unset.items(), key=str))
    notes = tuple(sorted(notes, key=_line_order))
    erred = {line.split(": ", 1)[0] for line in lines}  # an error there already says it
    warnings = tuple(
        sorted(
            (w for w in doc.warnings.values() if w.split(": ", 1)[0] not in erred), key=_line_order
        )
    )
    if lines:
        raise SpecError(lines, notes, warnings)
    for where in skipped:  # a placeholder must not reach the typed spec (float('${X}'))
        drop_optional(doc.data, where, frozenset(registry.destinations))
    spec = _build(path, doc, registry, frozenset(interpolator.secrets))
    return dataclasses.replace(spec, unset=unset, notes=notes, warnings=warnings)


def load_spec_hiding_secrets(path: Path, allow_unset: bool = False) -> Spec:
    """load_spec for a command: the secrets are registered first, so no later output prints them."""
    spec = load_spec(path, allow_unset=allow_unset)
    omnilog.register_secrets(spec.secrets)
    return spec


def _destination_type(block: Mapping[str, Any], registry: Registry) -> str:
    return str(block.get("type") or next(iter(sorted(registry.destinations))))


def _line_order(line: str) -> tuple[int, int]:
    parts = line.split(" ", 1)[0].split(":")
    line_no, column, *_ = [*(int(p) for p in parts[1:3] if p.isdigit()), 0, 0]
    return line_no, column


def _semantic_issues(
    data: dict[str, Any], registry: Registry, skip: set[Any], connections: bool
) -> list[SpecIssue]:
    """Plugin and mapping checks, on the syncs whose shape the schema already accepted."""
    issues: list[SpecIssue] = []
    seen: dict[str, int] = {}
    destinations: dict[str, Destination] = {}
    for i, sync in enumerate(data["syncs"]):
        if not isinstance(sync, dict):
            continue
        issues.extend(_name_issues(i, sync, seen))
        issues.extend(_sync_issues(i, sync, registry, skip))
        if (i, "destination") in skip or not isinstance(sync.get("destination"), dict):
            continue
        dest_type = _destination_type(sync["destination"], registry)
        if connections:
            issues.extend(
                _destination_issues(
                    data, i, sync, dest_type, registry, destinations, (i, "delivery") not in skip
                )
            )
    return issues


def _name_issues(i: int, sync: Mapping[str, Any], seen: dict[str, int]) -> list[SpecIssue]:
    """A sync name used twice would make its state, rejects and --select ambiguous."""
    name = sync.get("name")
    if name in seen:
        message = f"duplicate sync name '{name}' (also syncs[{seen[name]}])"
        return [SpecIssue(("syncs", i, "name"), message)]
    if isinstance(name, str):
        seen[name] = i
    return []


def _sync_issues(
    i: int, sync: Mapping[str, Any], registry: Registry, skip: set[Any]
) -> list[SpecIssue]:
    """The sync's own blocks (mapping, filter, dedupe, delivery, incremental) the schema accepted."""
    from engine.transforms.mapping import check_expression, check_mapping

    here = ("syncs", i)
    issues: list[SpecIssue] = []
    if (i, "mapping") not in skip and isinstance(sync.get("mapping"), dict):
        issues.extend(
            SpecIssue((*here, "mapping", *issue.path), issue.message, issue.at_key)
            for issue in check_mapping(sync["mapping"], registry.transforms)
        )
    if (i, "filter") not in skip and isinstance(sync.get("filter"), str):
        issues.extend(check_expression((*here, "filter"), sync["filter"]))
    dedupe_key = (sync.get("dedupe") or {}).get("key")
    if (i, "dedupe") not in skip and dedupe_key and dedupe_key not in sync.get("mapping", {}):
        issues.append(SpecIssue((*here, "dedupe", "key"), f"'{dedupe_key}' is not a mapped field"))
    if (i, "delivery") not in skip and isinstance(sync.get("delivery"), dict):
        issues.extend(rate_issues((*here, "delivery", "rate_limit"), sync["delivery"]))
    if (i, "incremental") not in skip:
        issues.extend(_incremental_issues(here, sync, registry))
    return issues


def _destination_issues(
    data: dict[str, Any],
    i: int,
    sync: Mapping[str, Any],
    dest_type: str,
    registry: Registry,
    destinations: dict[str, Destination],
    check_delivery: bool,
) -> list[SpecIssue]:
    """The destination's own checks of its connection block (once) and of this sync's block."""
    if dest_type not in data:
        return [SpecIssue((), f"missing the '{dest_type}' connection block used by syncs[{i}]")]
    issues: list[SpecIssue] = []
    destination = destinations.get(dest_type)
    if destination is None:
        destination = destinations[dest_type] = registry.destinations[dest_type](data[dest_type])
        issues.extend(
            SpecIssue((dest_type, *issue.path), issue.message, issue.at_key)
            for issue in destination.check_connection()
        )
    return issues + _sync_block_issues(data, i, destination, check_delivery)


def _sync_block_issues(
    data: dict[str, Any], index: int, destination: Destination, check_delivery: bool
) -> list[SpecIssue]:
    """The destination's checks of a sync's block (at the block, or in the sync), and its cap."""
    sync = data["syncs"][index]
    mapped = frozenset(sync.get("mapping") or ())
    found = [
        SpecIssue(
            ("syncs", index, *(() if issue.in_sync else ("destination",)), *issue.path),
            issue.message,
            issue.at_key,
        )
        for issue in destination.check_sync(sync["destination"], mapped)
    ]
    if check_delivery:
        found += batch_issues(data, index, destination, sync["destination"])
    return found + _once_issues(index, sync, destination)


def _once_issues(index: int, sync: Mapping[str, Any], destination: Destination) -> list[SpecIssue]:
    """`once_per` where the endpoint fires events (required), nowhere else (refused)."""
    try:
        events = fires_events(destination, sync["destination"])
    except (KeyError, TypeError, ValueError):  # a block the destination refused already
        return []
    if events and "once_per" not in sync:
        endpoint = sync["destination"].get("endpoint")
        return [
            SpecIssue(
                ("syncs", index),
                f"the endpoint {endpoint!r} fires events (a resend is not harmless): say how often "
                "a key may be sent with `once_per`, e.g. `once_per: 1d` (docs/triggers.md)",
            )
        ]
    if not events and "once_per" in sync:
        return [
            SpecIssue(
                ("syncs", index, "once_per"),
                "once_per applies only to endpoints that fire events (docs/triggers.md); this "
                "endpoint's records are upserted by key, so a resend is harmless",
                at_key=True,
            )
        ]
    if events and sync.get("change_detection") is True:
        return [
            SpecIssue(
                ("syncs", index, "change_detection"),
                "change detection does not apply to events (each send is a new event): leave "
                "change_detection out",
                at_key=True,
            )
        ]
    return []


def _incremental_issues(
    here: tuple[str | int, ...], sync: Mapping[str, Any], registry: Registry
) -> list[SpecIssue]:
    """A cursor or lookback that means nothing for the source is refused, never ignored.

    A source class may name its cursors (`NamesCursors`; None: any column) and say it can read
    again rows a little older than the mark (`LooksBack`): optional features, engine.contracts."""
    incremental, source = sync.get("incremental"), sync.get("source")
    if not isinstance(incremental, dict) or not isinstance(source, dict) or len(source) != 1:
        return []
    (source_type,) = source
    plugin = registry.sources.get(source_type)
    if plugin is None:
        return []
    issues = []
    cursors = source_cursors(plugin)
    cursor = incremental.get("cursor")
    if cursors is not None and cursor not in cursors:
        understood = ", ".join(sorted(cursors)) or "none"
        issues.append(
            SpecIssue(
                (*here, "incremental", "cursor"),
                f"the {source_type} source has no cursor '{cursor}' (it understands: {understood})",
            )
        )
    if "lookback" in incremental and not supports_lookback(plugin):
        issues.append(
            SpecIssue(
                (*here, "incremental", "lookback"),
                f"the {source_type} source cannot read again behind its mark: lookback is for sql",
            )
        )
    return issues


def _build(path: Path, doc: LocatedDocument, registry: Registry, secrets: frozenset[str]) -> Spec:
    data = doc.data
    defaults.apply(data, registry)
    directory = path.parent
    default_ratio = float(data.get("max_reject_ratio", 0.0))
    default_stop = parse_early_stop(data, EarlyStop())
    syncs = []
    for i, raw in enumerate(data["syncs"]):
        ((source_type, source_block),) = raw["source"].items()
        delivery = dict(raw.get("delivery", {}))
        delivery["rate_limit"] = parse_rate(delivery.get("rate_limit"))
        reject_file = raw.get("reject_file") or data.get("reject_file")
        syncs.append(
            SyncSpec(
                index=i,
                name=raw["name"],
                source_type=source_type,
                source=source_block,
                destination_type=_destination_type(raw["destination"], registry),
                destination=raw["destination"],
                mapping=raw["mapping"],
                delivery=Delivery(**delivery),
                max_reject_ratio=float(raw.get("max_reject_ratio", default_ratio)),
                early_stop=parse_early_stop(raw, default_stop),
                reject_file=reject_path(directory, reject_file, raw["name"]),
                cursor=raw.get("incremental", {}).get("cursor"),
                enabled=raw.get("enabled", True),
                filter=raw.get("filter"),
                dedupe_key=raw.get("dedupe", {}).get("key"),
                depends_on=tuple(raw.get("depends_on", ())),
                change_detection=raw.get("change_detection", True) is not False,
                in_source=in_source_options(raw.get("change_detection", True)),
                once_per=seconds(raw.get("once_per")),
                lookback=seconds(raw.get("incremental", {}).get("lookback")),
                expect=parse_expect(raw.get("expect")),
            )
        )
    connections = {name: data[name] for name in registry.destinations if name in data}
    return Spec(path, connections, tuple(syncs), data.get("state", {}), secrets, doc)
