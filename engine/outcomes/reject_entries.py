"""A reject file read back, and its entries marked resolved: what `rejects replay` works on.

Reading: every line is one JSON object. A crash can cut the last line short (reject_file.py
writes it in pieces); that line is skipped with a warning naming it, since its row was never
counted as written: the sync writes it again when it reads that row again. A line that does not
parse anywhere else is damage nobody can explain, so it stops the replay and names its line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from engine import logging as omnilog
from engine.errors import OmnisyncError

log = omnilog.get_logger("omnisync.rejects")

Entry = dict[str, Any]


def read_entries(path: Path) -> list[Entry]:
    """The entries of a reject file in order (none when it does not exist); see the module doc."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")  # written with b"\n" only; the last piece is unended
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if number == len(lines):  # no newline after it: a write a crash cut short
                log.warning(
                    "reject_line_torn",
                    file=str(path),
                    line=number,
                    message=f"{path}:{number}: the last line was cut short by a crash; skipped",
                )
                continue
            raise OmnisyncError(
                f"{path}:{number}: not a reject entry ({exc}); only the last line may be cut "
                "short by a crash: repair or remove this line"
            ) from None
        if not isinstance(entry, dict):
            raise OmnisyncError(f"{path}:{number}: not a reject entry (not a JSON object)")
        entries.append(entry)
    return entries


def rewrite(
    path: Path, entries: list[Entry], resolved: set[str], refused: Mapping[str, Entry]
) -> None:
    """Atomically: resolved entries marked, refused ones with their new reason, others as they were."""
    _replace(path, _marked(entries, resolved, refused))


def _marked(entries: list[Entry], resolved: set[str], refused: Mapping[str, Entry]) -> list[Entry]:
    marked = []
    for entry in entries:
        where = str(entry.get("position"))
        if where in resolved and not entry.get("resolved"):
            entry = {**entry, "resolved": True}
        elif where in refused:
            entry = {**refused[where], "resolved": False}
        marked.append(entry)
    return marked


def _replace(path: Path, entries: list[Entry]) -> None:
    """The file's new content, whole or not at all, on disk when this returns."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner-only, as written
    try:
        _write_all(fd, b"".join(orjson.dumps(entry) + b"\n" for entry in entries))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)  # the rename itself, durable
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
