"""The reject file: JSON Lines, one rejected row each, durable and append-only across runs.

Every line carries the run id, when it was written, the sync, the row's position, the record's key,
the field and the reason, and the record (personal fields masked unless the run reveals them).

Durability, so that no reject is lost and none is written twice across a crash and its resume:
- a rejected row is held until the low-water mark passes it (`release`), then written by
  `commit`, which the state store calls before it saves the mark: a saved position never counts
  a row whose reject line is not on disk (written and fsynced);
- lines are appended, never truncated; the file is opened lazily, so a clean run leaves no file.
  Only a last line a crash cut short (it does not parse, so no run counted it) is cut off before
  the next append: every line of the file stays one JSON object;
- a resumed run reads again the rows after the stored mark, some of which the interrupted run
  may already have written (after its last save). `resuming(saved_at)` collects the positions of
  the lines written after that save, and those rows are counted but not written again.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from engine import logging as omnilog
from engine.crashpoints import crash_point
from engine.logging import redact
from engine.pii import mask_fields, mask_reason
from engine.rows import Rejection

_INT64 = range(-(2**63), 2**64)
log = omnilog.get_logger("omnisync.rejects")


def new_run_id() -> str:
    """Sortable by start time, unique enough: 20261201T112233Z-3f9a1c."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class RejectFile:
    """Rejected rows of one sync; see the module docstring for when lines reach the disk."""

    def __init__(
        self,
        path: Path,
        sync: str,
        personal: frozenset[str],
        reveal: bool,
        run_id: str | None = None,
        dry_run: bool = False,
    ) -> None:
        self.path = path
        self.sync = sync
        self.personal = personal
        self.reveal = reveal
        self.run_id = run_id or new_run_id()
        self.dry_run = dry_run
        self.count = 0  # rows this run rejected (written, pending, or already written before)
        self._order = itertools.count()
        self._pending: list[tuple[int, int, dict[str, Any]]] = []  # heap by row sequence
        self._ready: list[dict[str, Any]] = []
        self._written_before: set[str] = set()
        self._fd: int | None = None
        self._unsynced = False

    def resuming(self, saved_at: dt.datetime) -> None:
        """This run resumes a mark saved at `saved_at`: rows already written since are not written again."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    entry = orjson.loads(line)
                    written = dt.datetime.fromisoformat(entry["at"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line of an older format, or torn by a power loss
                if (
                    entry.get("sync") == self.sync
                    and not entry.get("dry_run")
                    and written > saved_at
                ):
                    self._written_before.add(str(entry.get("position")))

    def write(self, rejection: Rejection, where: str, key: str | None, seq: int = -1) -> None:
        """Record a rejected row; `seq` is its row's sequence number (-1: no mark to wait for)."""
        self.count += 1
        if where in self._written_before:
            self._written_before.discard(where)
            return
        data = rejection.payload if rejection.payload is not None else rejection.values
        entry = {
            "run_id": self.run_id,
            "at": "",
            "sync": self.sync,
            "position": where,
            "key": key if self.reveal or key is None else mask_reason(str(key), None, frozenset()),
            "field": rejection.field,
            "reason": redact(
                rejection.reason
                if self.reveal
                else mask_reason(rejection.reason, rejection.field, self.personal)
            ),
            "record": data if self.reveal else mask_fields(data, self.personal),
        }
        if self.dry_run:
            entry["dry_run"] = True
        if seq < 0:
            self._ready.append(entry)
        else:
            heapq.heappush(self._pending, (seq, next(self._order), entry))

    def release(self, below: int) -> None:
        """Rows before sequence `below` are finished: their lines may be written."""
        pending = self._pending
        while pending and pending[0][0] < below:
            self._ready.append(heapq.heappop(pending)[2])

    def commit(self) -> None:
        """Write the released lines and fsync: called before a position counting them is saved."""
        if self._ready:
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            lines = []
            for entry in self._ready:
                entry["at"] = now
                lines.append(redact(_encode(entry).decode()).encode() + b"\n")
            self._ready.clear()
            data = b"".join(lines)
            fd = self._open()
            cut = len(data) - len(lines[-1]) // 2  # test-only: dies with the last line half written
            _write_all(fd, data[:cut])
            crash_point("reject_append")
            _write_all(fd, data[cut:])
            self._unsynced = True
        if self._unsynced and self._fd is not None:
            os.fsync(self._fd)
            self._unsynced = False

    def close(self) -> None:
        """Write everything still held (rows past the last mark too) and close."""
        while self._pending:
            self._ready.append(heapq.heappop(self._pending)[2])
        self.commit()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(self._fd, 0o600)  # owner-only, also a file an earlier version left readable
            self._mend(self._fd)
        return self._fd

    def _mend(self, fd: int) -> None:
        """The next line starts on a line of its own. A last line without its newline that parses
        was written whole (resuming() counts it): it gets its newline. One that does not parse was
        cut short by a crash and never counted: it is cut off, and its row is written again when
        the sync reads it again, so every line of the file stays a JSON object."""
        size = os.fstat(fd).st_size
        with self.path.open("rb") as handle:
            tail = _unended_tail(handle, size)
        if not tail:
            return
        try:
            orjson.loads(tail)
        except orjson.JSONDecodeError:
            os.ftruncate(fd, size - len(tail))
            log.warning(
                "reject_line_torn",
                file=str(self.path),
                message=f"{self.path}: its last line was cut short by a crash; removed before "
                "this run appends",
            )
            return
        _write_all(fd, b"\n")


def _unended_tail(handle: BinaryIO, size: int, chunk: int = 1 << 16) -> bytes:
    """The bytes after the last newline of a file of `size` bytes (read from the end)."""
    pieces: list[bytes] = []
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        block = handle.read(end - start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            pieces.append(block[cut + 1 :])
            break
        pieces.append(block)
        end = start
    return b"".join(reversed(pieces))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _encode(entry: dict[str, Any]) -> bytes:
    """orjson, or, for what it refuses (integers past 64 bits, keys that are not text), text."""
    try:
        return orjson.dumps(entry, default=str)
    except TypeError:
        return orjson.dumps(_encodable(entry), default=str)


def _encodable(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else str(value)
    if isinstance(value, dict):
        return {str(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value
