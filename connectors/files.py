"""Local files matched by a glob, read in name order through the shared format readers.

The position is (path, number): the path as matched (relative to the spec's directory when the
pattern is), and the record's line (CSV, JSON Lines) or row (Parquet). Ordering by path rather than
by an index keeps a stored position meaningful when new files join the glob between runs.
"""

from __future__ import annotations

import glob
from collections.abc import AsyncIterator, Generator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from connectors._threaded import iterate_in_thread
from connectors.readers import CsvOptions, FormatError, read_records
from engine.contracts import SourceContext
from engine.errors import OmnisyncError
from engine.records import Position, Row

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


class FileSource:
    """Base of the csv, jsonl and parquet sources; a subclass names its format and schema."""

    format: ClassVar[str]
    config_schema: ClassVar[dict[str, Any]]

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.pattern = str(config["path"])
        self.base = context.spec_dir
        self.options = CsvOptions.from_config(config)
        self.files = self._files()

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

    def locate(self, position: Position) -> str:
        """Where a position points, as the user finds it: path:line (or path:row)."""
        name, number = position
        return f"{name}:{number}"

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Rows after `resume`, parsed in a thread so the event loop stays free."""
        return iterate_in_thread(lambda: self._rows(resume))

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        for name in self.files:
            if resume is not None and name < resume[0]:
                continue
            skip_to = int(resume[1]) if resume is not None and name == resume[0] else 0
            with self._path(name).open("rb") as stream:
                try:
                    for number, values, error in read_records(
                        self.format, stream, name, self.options, skip_to
                    ):
                        yield Row(values, (name, number), error)
                except FormatError as exc:
                    raise FormatError(f"{name}: {exc}") from None
                except (OSError, EOFError) as exc:  # a truncated or corrupt gzip member
                    raise OmnisyncError(f"{name}: cannot be read ({exc})") from None
