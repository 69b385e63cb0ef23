"""The source columns a sync names, checked against the columns the source has, before any send.

A mapping that reads `item_list` when the table has `items` would send every record without the
field; a filter on a missing column would keep every row; a cursor that is not a column would fail
mid-run. Sources that can tell their columns cheaply (a CSV header, a Parquet schema, a query's
result columns, the first rows of a JSON Lines file) implement `columns()`; every name the sync
reads is looked up there, and a missing one is a spec error naming the columns and the nearest.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from engine.contracts import Source, SourceContext, config_issues, source_cursors
from engine.errors import OmnisyncError, SourceSettingError, SpecIssue
from engine.plugins import Registry
from engine.specfile import Spec, SyncSpec
from engine.specfile.validate import format_issues
from engine.suggest import suggest
from engine.transforms.expressions import ExpressionError, referenced_columns

Path = tuple[str | int, ...]


@runtime_checkable
class HasColumns(Protocol):
    def columns(self) -> Sequence[tuple[str, Sequence[str]]]:
        """(where, column names) for each part of the source (a file, a table); may block."""
        ...


@dataclass(frozen=True)
class Use:
    path: Path  # where the spec names the column
    column: str


def uses(sync: SyncSpec, cursor_is_column: bool = True) -> list[Use]:
    """Every column the sync reads: mapping sources, the filter, the cursor (unless the source
    names its cursors itself, as files do with `modified`), the source's key."""
    here: Path = ("syncs", sync.index)
    found: list[Use] = []
    for target, definition in sync.mapping.items():
        found.extend(_field_uses((*here, "mapping", target), definition))
    if sync.filter:
        found.extend(_expression_uses((*here, "filter"), sync.filter))
    if sync.cursor and cursor_is_column:
        found.append(Use((*here, "incremental", "cursor"), sync.cursor))
    key = sync.source.get("key")
    if isinstance(key, list):
        source_path = (*here, "source", sync.source_type, "key")
        found.extend(Use((*source_path, i), str(name)) for i, name in enumerate(key))
    return found


def _field_uses(path: Path, definition: Any) -> Iterator[Use]:
    if isinstance(definition, str):
        yield Use(path, definition)
        return
    if not isinstance(definition, Mapping):
        return
    if "from" in definition:
        yield Use((*path, "from"), str(definition["from"]))
    elif "template" in definition:
        for _literal, name, _spec, _conv in string.Formatter().parse(definition["template"]):
            if name:
                yield Use((*path, "template"), name)
    elif "coalesce" in definition:
        for i, name in enumerate(definition["coalesce"]):
            yield Use((*path, "coalesce", i), str(name))
    elif "expr" in definition:
        yield from _expression_uses((*path, "expr"), definition["expr"])
    elif "object" in definition:
        for key, sub in definition["object"].items():
            yield from _field_uses((*path, "object", key), sub)
    elif "list" in definition:
        for i, item in enumerate(definition["list"]):
            for key, sub in item.items():
                yield from _field_uses((*path, "list", i, key), sub)


def _expression_uses(path: Path, text: str) -> list[Use]:
    try:
        return [Use(path, name) for name in sorted(referenced_columns(text))]
    except ExpressionError:  # already reported by the spec checks
        return []


def missing(
    sync: SyncSpec, parts: Sequence[tuple[str, Sequence[str]]], cursor_is_column: bool = True
) -> list[SpecIssue]:
    """One issue per column the sync reads that a part of its source lacks."""
    issues: list[SpecIssue] = []
    for use in uses(sync, cursor_is_column):
        for where, columns in parts:
            if use.column in columns:
                continue
            listed = ", ".join(columns) if columns else "(none)"
            issues.append(
                SpecIssue(
                    use.path,
                    f"no column '{use.column}' in {where}{suggest(use.column, columns)}; "
                    f"its columns: {listed}",
                )
            )
            break
    return issues


def source_of(spec: Spec, sync: SyncSpec, registry: Registry) -> Source:
    """The sync's source, built as a run builds it (without the delivery stack: `validate`)."""
    context = SourceContext(spec.directory, sync.name, sync.cursor, sync.lookback)
    source: Source = registry.sources[sync.source_type](sync.source, context)
    return source


def column_errors(spec: Spec, sync: SyncSpec, source: object) -> list[str]:
    """The formatted spec errors (file:line:col path: message) for a source that knows its columns."""
    if not isinstance(source, HasColumns):
        return []
    try:
        parts = source.columns()
    except SourceSettingError as exc:  # the source opened and contradicts its block
        block: Path = ("syncs", sync.index, "source", sync.source_type)
        issue = SpecIssue((*block, *exc.path), str(exc), exc.at_key)
        return format_issues(spec.document, [issue])
    # a source with its own cursor names (`cursors`, see docs/plugins.md) has no cursor column
    cursor_is_column = source_cursors(source) is None
    return format_issues(spec.document, missing(sync, parts, cursor_is_column))


def config_errors(spec: Spec, sync: SyncSpec, registry: Registry) -> list[str]:
    """The source class's own checks of its block that look outside the spec (a dbt manifest it
    names), as spec errors at their lines; `validate --offline` leaves them out, like columns."""
    plugin = registry.sources.get(sync.source_type)
    issues = [
        SpecIssue(("syncs", sync.index, "source", sync.source_type, *i.path), i.message, i.at_key)
        for i in config_issues(plugin, sync.source, spec.directory)
    ]
    errors = format_issues(spec.document, issues)
    if sync.in_source is None:  # the in-source machinery loads only for a sync that uses it
        return errors
    from engine.run.in_source import spec_errors  # it reads this module's `uses`

    return errors + spec_errors(spec, sync, registry)


def column_problems(spec: Spec, registry: Registry | None = None) -> tuple[list[str], list[str]]:
    """Missing columns and sources' own errors (errors), and the syncs whose source cannot be
    opened (notes, not errors): `validate`'s look into the sources."""
    from engine.plugins import load_registry

    registry = registry or load_registry()
    lines: list[str] = []
    skipped: list[str] = []
    for sync in spec.syncs:
        if found := config_errors(spec, sync, registry):
            lines += found
            continue
        try:
            source = source_of(spec, sync, registry)
            lines += column_errors(spec, sync, source)
        except OmnisyncError as exc:
            skipped.append(f"{sync.name}: columns not checked, the source cannot be opened: {exc}")
            continue
        skipped += _in_source_notes(spec, sync, registry, source)
    return lines, skipped


def _in_source_notes(spec: Spec, sync: SyncSpec, registry: Registry, source: object) -> list[str]:
    """`change_detection: in_source` the source cannot do (permissions, no hash function)."""
    if sync.in_source is None:
        return []
    from engine.run.in_source import validate_note

    try:
        note = validate_note(spec, sync, registry, source)
    except OmnisyncError as exc:
        note = f"{sync.name}: change detection in the source not checked: {exc}"
    return [note] if note else []
