"""The spec's `defaults:` block: settings every sync inherits unless it sets its own, so a
three-sync spec says its encoding, delivery and reject settings once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import SpecIssue
from engine.plugins import Registry
from engine.specfile.expect import merged

# the keys a sync inherits as they are (a sync's own value wins)
INHERITED = ("max_reject_ratio", "min_rows_for_reject_ratio", "reject_file")


def takes_encoding(source_type: str, registry: Registry) -> bool:
    source = registry.sources.get(source_type)
    schema = source.config_schema if source is not None else {}
    return "encoding" in schema.get("properties", {})


def apply(data: dict[str, Any], registry: Registry) -> None:
    """Fill each sync from `defaults:` in place (after the schema accepted both)."""
    defaults: Mapping[str, Any] = data.get("defaults") or {}
    if not defaults:
        return
    for sync in data["syncs"]:
        for key in INHERITED:
            if key in defaults and key not in sync:
                sync[key] = defaults[key]
        if "expect" in defaults:  # key by key: a sync may set one bound and inherit the rest
            sync["expect"] = merged(defaults["expect"], sync.get("expect"))
        if "delivery" in defaults:
            sync["delivery"] = _delivery(defaults["delivery"], sync.get("delivery") or {})
        if "encoding" in defaults:
            ((source_type, block),) = sync["source"].items()
            if takes_encoding(source_type, registry) and "encoding" not in block:
                sync["source"] = {source_type: {**block, "encoding": defaults["encoding"]}}


def _delivery(inherited: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**inherited, **own}
    if "retry" in inherited or "retry" in own:
        retry = dict(inherited.get("retry") or {})
        for kind, policy in (own.get("retry") or {}).items():
            retry[kind] = {**retry.get(kind, {}), **policy}
        merged["retry"] = retry
    return merged


def issues(data: dict[str, Any], registry: Registry) -> list[SpecIssue]:
    """A default no sync can use would vanish silently: say so."""
    defaults = data.get("defaults")
    if not isinstance(defaults, dict) or "encoding" not in defaults:
        return []
    types = [
        next(iter(s["source"]), None)
        for s in data["syncs"]
        if isinstance(s, dict) and isinstance(s.get("source"), dict) and s["source"]
    ]
    if any(t is not None and takes_encoding(t, registry) for t in types):
        return []
    return [
        SpecIssue(("defaults", "encoding"), "no sync's source reads text: nothing would use it")
    ]
