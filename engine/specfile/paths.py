"""Paths a run writes: file names derived from sync names, and the state file's place.

A sync name has no length limit, but a file name does (255 bytes on ext4, APFS, NTFS): a long
name would crash the run when its reject file is first written. A component that is too long keeps
its beginning and gains a short hash of the whole, so two long names never share a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import SpecIssue

NAME_MAX = 255  # bytes in one path component, the common limit


def reject_path(directory: Path, template: str | None, sync: str) -> Path:
    """`template` with {sync} replaced (default .omnisync/rejects-{sync}.jsonl), each part fitting."""
    text = template.replace("{sync}", sync) if template else f".omnisync/rejects-{sync}.jsonl"
    path = Path(text)
    fitted = Path(*(fit(part) for part in path.parts))
    return fitted if fitted.is_absolute() else directory / fitted


def fit(name: str, limit: int = NAME_MAX) -> str:
    """`name`, or its beginning plus a hash of it when longer than `limit` bytes (suffix kept)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = name, ""
    tail = f"-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}" + (
        f".{suffix}" if suffix else ""
    )
    room = limit - len(tail.encode("utf-8"))
    head = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + tail


def state_path_issues(state: Any, directory: Path) -> list[SpecIssue]:
    """The SQLite state file (`state.path`) where it can never be created is refused before the
    run: a path under a file (`/dev/null/x.db`), or a directory. A parent that does not exist yet
    is fine: the run creates it."""
    if not isinstance(state, Mapping) or state.get("backend", "sqlite") != "sqlite":
        return []
    written = state.get("path")
    if not isinstance(written, str) or not written:
        return []
    path = directory / written  # an absolute `written` stays as it is
    try:
        if path.is_dir():
            return [SpecIssue(("state", "path"), f"{written!r} is a directory, not a file")]
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    except OSError:  # cannot be looked at from here (permissions): the run will say
        return []
    if blocking is None:
        return []
    return [
        SpecIssue(
            ("state", "path"), f"{written!r} cannot be created: {blocking} is not a directory"
        )
    ]
