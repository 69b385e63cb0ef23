"""CSV files (a path or a glob, optionally .gz), streamed row by row; see connectors.files."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.files import PATH_SCHEMA, FileSource
from connectors.formats import CSV_OPTIONS_SCHEMA


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
