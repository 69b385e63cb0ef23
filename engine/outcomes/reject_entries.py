"""A reject file read back, and its entries marked resolved: what `rejects replay` works on.

Reading: every line is one JSON object. A crash can cut the last line short (reject_file.py
writes it in pieces); that line is skipped with a warning naming it, since its row was never
counted as written: the sync writes it again when it reads that row again. A line that does not
parse anywhere else is damage nobody can explain, so it stops the replay and names its line.

Resolving: a replay marks rows resolved as the API acknowledges them, not only when it ends. Each
acknowledged batch's positions are appended to a journal beside the file (`<file>.resolved`) and
fsynced; the end of the replay folds the journal into the file (one atomic rewrite) and removes
it. A replay killed half way leaves the journal, and the next replay folds it first, so it sends
only the rest. The journal's first line holds how many entries the file had when the replay
started: entries a later run appended are not the ones it resolved.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
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


class ResolvedJournal:
    """The positions a replay delivered so far, durable batch by batch (see the module doc)."""

    def __init__(self, reject_file: Path) -> None:
        self.reject_file = reject_file
        self.path = reject_file.with_name(reject_file.name + ".resolved")
        self.resolved: set[str] = set()
        self._fd: int | None = None

    def recover(self) -> int:
        """Fold what a killed replay left into the reject file; how many rows it had resolved."""
        if not self.path.exists():
            return 0
        if not self.reject_file.exists():  # removed by hand since: nothing to mark
            self.path.unlink()
            return 0
        entries = read_entries(self.reject_file)
        covered, done = self._read()
        # lines a run appended after the killed replay are not the ones it resolved: as written
        _replace(self.reject_file, [*_marked(entries[:covered], done, {}), *entries[covered:]])
        self.path.unlink()
        return len(done)

    def start(self, entries: int) -> None:
        """A replay of a file that has `entries` entries begins."""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self._append({"entries": entries})

    def add(self, positions: Iterable[str]) -> None:
        """These rows were delivered: durable before this returns."""
        batch = [p for p in positions if p not in self.resolved]
        if batch:
            self._append({"resolved": batch})
            self.resolved.update(batch)

    def finish(
        self, entries: list[Entry], resolved: set[str], refused: Mapping[str, Entry]
    ) -> None:
        """Fold into the reject file and remove the journal."""
        self.close()
        rewrite(self.reject_file, entries, resolved | self.resolved, refused)
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _append(self, line: Mapping[str, Any]) -> None:
        assert self._fd is not None
        _write_all(self._fd, orjson.dumps(line) + b"\n")
        os.fsync(self._fd)

    def _read(self) -> tuple[int, set[str]]:
        """(entries the killed replay started with, the positions it resolved)."""
        covered, done = 0, set[str]()
        for number, line in enumerate(self.path.read_bytes().split(b"\n"), 1):
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # cut short by the kill: that batch was not resolved
            if number == 1:
                covered = int(item.get("entries", 0))
            else:
                done.update(str(p) for p in item.get("resolved", ()))
        return covered, done
