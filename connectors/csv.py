"""CSV files (a path or a glob, optionally .gz), streamed row by row; see connectors.files."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.csv_options import CSV_OPTIONS_SCHEMA
from connectors.files import PATH_SCHEMA, FileSource


class CsvSource(FileSource):
    """Delimiter, quote character, encoding (Big5, Shift-JIS, ...), header renaming.

    A row with the wrong number of columns or undecodable bytes is rejected with its file and line.
    """

    format: ClassVar[str] = "csv"
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["path"],
        "properties": {"path": PATH_SCHEMA, **CSV_OPTIONS_SCHEMA},
        "if": {"properties": {"header": {"const": False}}, "required": ["header"]},
        "then": {"required": ["path", "columns"]},
        "additionalProperties": False,
    }

    def estimate_total(self) -> int | None:
        """Rows in every file, estimated from the sizes and the first 64 KiB (for the progress ETA)."""
        paths = [self._path(name) for name in self.files]
        if any(path.suffix == ".gz" for path in paths):
            return None
        size = sum(path.stat().st_size for path in paths)
        with paths[0].open("rb") as handle:
            sample = handle.read(65536)
        lines = sample.count(b"\n")
        if not lines:
            return None
        headers = len(paths) if self.options.header else 0
        return max(0, round(size * lines / len(sample)) - headers)
