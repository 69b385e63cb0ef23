"""Local files matched by a glob, read in name order through the shared format readers.

The position is (path, number, size, mtime_ns, digest): the path as matched (relative to the spec's
directory when the pattern is), the record's line (CSV, JSON Lines) or row (Parquet), and the
identity of the file it was read from (connectors.file_identity). Ordering by path rather than by
an index keeps a stored position meaningful when new files join the glob between runs; the
identity makes a file replaced since the position was stored read again from the beginning.

Incremental (`incremental: {cursor: modified}`, the only cursor a file has): files are read in
(modification time, path) order and the position starts with the mtime in ns, (mtime_ns, path,
number, size, mtime_ns, digest), so the next run reads only files added or rewritten since the last
one (a rewritten file from its first line; change detection then skips its rows that did not change).
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.csv_options import CsvOptions
from engine import logging as omnilog
from engine.contracts import SourceContext
from engine.errors import OmnisyncError, SourceSettingError
from engine.lazy import lazy_module
from engine.rows import Position, Row

if TYPE_CHECKING:
    from connectors import _threaded, file_identity, readers
else:  # when a source first reads: checking a spec needs only the schema above
    _threaded = lazy_module("connectors._threaded")
    file_identity = lazy_module("connectors.file_identity")
    readers = lazy_module("connectors.readers")

log = omnilog.get_logger("omnisync.files")

PATH_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "File path or glob (*, ?, [..], ** across directories); relative to the spec",
}
PATH_ONLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["path"],
    "properties": {"path": PATH_SCHEMA},
    "additionalProperties": False,
}
"""The whole block of a format with no options of its own (JSON Lines, Parquet)."""
MODIFIED = "modified"


class FileSource:
    """Base of the csv, jsonl and parquet sources; a subclass names its format and schema."""

    format: ClassVar[str]
    config_schema: ClassVar[dict[str, Any]]
    cursors: ClassVar[frozenset[str]] = frozenset({MODIFIED})  # what `incremental.cursor` may be

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.pattern = str(config["path"])
        self.base = context.spec_dir
        self.options = CsvOptions.from_config(config)
        if context.cursor not in (None, MODIFIED):
            raise OmnisyncError(
                f"{context.sync_name}: a {self.format} file has no column cursor; "
                f"incremental reads of files use `cursor: {MODIFIED}`"
            )
        self.incremental = context.cursor == MODIFIED
        self.files = self._files()
        self.notes: list[str] = []  # for the run report: what the reading changed or found
        # the resume position found unchanged, with its file's size and mtime then: not hashed twice
        self._verified: tuple[Position, tuple[int, int] | None] | None = None

    def _files(self) -> list[str]:
        absolute = Path(self.pattern).is_absolute()
        matches = sorted(
            glob.glob(self.pattern if absolute else str(self.base / self.pattern), recursive=True)
        )
        if not matches:
            raise OmnisyncError(f"{self.format} source: no file matches {self.pattern}")
        if absolute:
            return matches
        return sorted(str(Path(m).relative_to(self.base)) for m in matches)

    def _path(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else self.base / path

    def _split(self, position: Position) -> tuple[tuple[Any, ...], int, tuple[Any, ...]]:
        """(place, number, identity): place is (name,), or (mtime_ns, name) when incremental."""
        width = 2 if self.incremental else 1
        return tuple(position[:width]), int(position[width]), tuple(position[width + 1 :])

    def locate(self, position: Position) -> str:
        """Where a position points, as the user finds it: path:line (or path:row)."""
        place, number, _identity = self._split(position)
        if self.incremental:
            modified = dt.datetime.fromtimestamp(place[0] / 1e9, dt.UTC)
            return f"{place[1]}:{number} (modified {modified.isoformat(timespec='seconds')})"
        return f"{place[0]}:{number}"

    def columns(self) -> list[tuple[str, list[str]]]:
        """Each file's columns (header, schema, or the first objects' keys); see engine.run.columns."""
        parts = []
        for name in self.files:
            with self._path(name).open("rb") as stream:
                try:
                    columns = readers.columns_of(self.format, stream, name, self.options)
                except SourceSettingError as exc:
                    raise exc.within(name) from None
                except readers.FormatError as exc:
                    raise readers.FormatError(f"{name}: {exc}") from None
                except (OSError, EOFError) as exc:
                    raise OmnisyncError(f"{name}: cannot be read ({exc})") from None
            if columns is not None:  # an empty file has no columns to check, and no rows
                parts.append((name, columns))
        return parts

    def note(self, text: str) -> None:
        log.warning("source_note", message=text)
        self.notes.append(text)

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Rows after `resume`, parsed in a thread so the event loop stays free."""
        return _threaded.iterate_in_thread(lambda: self._rows(self._checked(resume)))

    def changed_since(self, position: Position) -> str | None:
        """Why the file `position` was counted in is not that file any more (ChecksResume)."""
        place, _number, identity = self._split(position)
        name = str(place[-1])
        if self._verified == (position, self._stamp(name)):
            return None  # checked before this run resumed, and untouched since
        changed = file_identity.still_same(self._path(name), identity)
        if changed is None:
            self._verified = (position, self._stamp(name))
            return None
        return f"{name} changed since the stored position ({changed})"

    def _stamp(self, name: str) -> tuple[int, int] | None:
        try:
            stat = self._path(name).stat()
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def _checked(self, resume: Position | None) -> Position | None:
        """The resume position, or None when the file it was counted in is not that file anymore
        (replaced between the engine's check and this read)."""
        if resume is None:
            return None
        changed = self.changed_since(resume)
        if changed is None:
            return resume
        self.note(f"{changed}: reading every file from the beginning")
        return None

    def _places(self) -> list[tuple[Any, ...]]:
        """(name,) per file, or (mtime_ns, name) in that order when incremental."""
        if not self.incremental:
            return [(name,) for name in self.files]
        return sorted((os.stat(self._path(name)).st_mtime_ns, name) for name in self.files)

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        start, resume_at = (None, 0) if resume is None else self._split(resume)[:2]
        for place in self._places():
            if start is not None and place < start:
                continue
            skip_to = resume_at if place == start else 0
            name = place[-1]
            path = self._path(name)
            identity = file_identity.FileIdentity.of(path).as_position()
            number = skip_to
            with path.open("rb") as stream:
                try:
                    for number, values, error in readers.read_records(
                        self.format, stream, name, self.options, skip_to, self._noter(name)
                    ):
                        yield Row(values, (*place, number, *identity), error)
                except SourceSettingError as exc:
                    raise exc.within(name) from None
                except readers.FormatError as exc:
                    raise readers.FormatError(f"{name}: {exc}") from None
                except (OSError, EOFError) as exc:  # a truncated or corrupt gzip member
                    reason = f"{name}: cannot be read past record {number} ({exc})"
                    yield Row(None, (*place, number + 1, *identity), reason)

    def _noter(self, name: str) -> Callable[[str], None]:
        return lambda text: self.note(f"{name}: {text}")
