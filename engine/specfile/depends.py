"""`depends_on`: which syncs must wait for others, checked before anything runs.

A sync's `depends_on` names syncs of the same spec that must finish first (purchases after the
audience sync that creates their members). An unknown name or a cycle is a spec error at the line
of the offending name; everything else runs at the same time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import SpecIssue
from engine.suggest import suggest


def depends_issues(syncs: Sequence[Any]) -> list[SpecIssue]:
    """Unknown names and cycles among the syncs' `depends_on` lists (raw, schema-checked data)."""
    names = {s["name"]: i for i, s in enumerate(syncs) if isinstance(s, dict) and _named(s)}
    issues: list[SpecIssue] = []
    edges: dict[str, list[tuple[str, int]]] = {}
    for i, sync in enumerate(syncs):
        if not isinstance(sync, dict) or not _named(sync):
            continue
        wanted = sync.get("depends_on")
        if not isinstance(wanted, list):
            continue
        for j, other in enumerate(wanted):
            if not isinstance(other, str):
                continue
            if other not in names:
                hint = suggest(other, list(names))
                issues.append(
                    SpecIssue(("syncs", i, "depends_on", j), f"no sync named '{other}'{hint}")
                )
            else:
                edges.setdefault(sync["name"], []).append((other, j))
    issues.extend(_cycles(edges, names))
    return issues


def _named(sync: Mapping[str, Any]) -> bool:
    return isinstance(sync.get("name"), str)


def _cycles(edges: dict[str, list[tuple[str, int]]], names: dict[str, int]) -> list[SpecIssue]:
    """One issue per cycle, at the dependency that closes it."""
    issues: list[SpecIssue] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for other, j in edges.get(name, []):
            if state.get(other) == 1:
                loop = [*path[path.index(other) :], other]
                issues.append(
                    SpecIssue(
                        ("syncs", names[name], "depends_on", j),
                        f"depends_on makes a cycle: {' -> '.join(loop)}",
                    )
                )
            elif other not in state:
                visit(other)
        path.pop()
        state[name] = 2

    for name in names:
        if name not in state:
            visit(name)
    return issues
