"""Offline (validate, test, plan --offline without secrets): the values that wait for an unset
${VAR}. Their checks are skipped and noted; an optional setting falls back to its default; a whole
block cannot wait, since no default stands for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import SpecIssue
from engine.specfile.yaml_loader import JsonPath, LocatedDocument, dotted


def needs(path: JsonPath, unset: Mapping[JsonPath, tuple[str, ...]]) -> bool:
    """An issue at a value (or inside a block) built from an unset variable, or a block-level
    issue about a value that is unset (`tid and api_key are required`)."""
    return any(
        path[: len(p)] == p or (path and len(p) == len(path) + 1 and p[:-1] == path) for p in unset
    )


_KEPT = frozenset({"name", "source", "destination", "mapping", "endpoint", "syncs", "version"})
# blocks no default can stand for: a whole `${VAR}` there is an error even offline
_STRUCTURE = frozenset({"source", "destination", "mapping", "syncs", "version"})


def structural(path: JsonPath) -> bool:
    return (len(path) == 1 and path[0] in _STRUCTURE) or (
        len(path) == 3 and path[0] == "syncs" and path[2] in _STRUCTURE
    )


def whole_block(issue: SpecIssue) -> SpecIssue:
    message = (
        "a ${VAR} cannot stand for a whole block, even offline: write the block in the spec "
        "and take single values from the environment"
    )
    return SpecIssue(issue.path, message, issue.at_key)


def drop_optional(data: Any, path: JsonPath, connections: frozenset[str]) -> None:
    """Leave an optional setting whose check was skipped at its default in the offline spec (a
    top-level `max_reject_ratio: ${MAX}` as much as one in a sync or in `defaults:`)."""
    if not path or path[-1] in _KEPT or not isinstance(path[-1], str):
        return
    if len(path) == 1 and path[0] in connections:
        return
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
        del node[path[-1]]


def unset_note(doc: LocatedDocument, path: JsonPath, names: tuple[str, ...]) -> str:
    variables = ", ".join(dict.fromkeys(names))
    plural = "s" if len(set(names)) > 1 else ""
    return (
        f"{doc.locate(path).where(doc.file)} {dotted(path)}: note: environment variable{plural} "
        f"{variables} not set; checks of this value skipped"
    )
