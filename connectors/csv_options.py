"""The formats, encodings and CSV options a file or S3 source block may name, and their schema.

Apart from the readers so that loading the source plugins (every command does, to check a spec)
costs no reader, decoder or hashing import: those load when a source first reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("csv", "jsonl", "parquet")
ENCODINGS = (
    "utf-8",
    "utf-8-sig",
    "big5",
    "cp950",
    "big5hkscs",
    "shift_jis",
    "cp932",
    "euc_jp",
    "gb18030",
    "latin-1",
    "cp1252",
)
"""Encodings where a newline byte is always a newline (no UTF-16), so lines split safely as bytes."""

CSV_OPTIONS_SCHEMA: dict[str, Any] = {
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
    "quotechar": {"type": "string", "minLength": 1, "maxLength": 1},
    "encoding": {"enum": list(ENCODINGS)},
    "header": {"type": "boolean", "description": "First line names the columns (default true)"},
    "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "rename": {
        "type": "object",
        "additionalProperties": {"type": "string", "minLength": 1},
        "description": "Header renaming: {old: new}",
    },
}


@dataclass(frozen=True)
class CsvOptions:
    """How to decode and split CSV bytes; shared by local files and S3 objects."""

    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    header: bool = True
    columns: tuple[str, ...] | None = None
    rename: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CsvOptions:
        """The CSV options of a source block, defaults filled in."""
        columns = config.get("columns")
        return cls(
            delimiter=config.get("delimiter", ","),
            quotechar=config.get("quotechar", '"'),
            encoding=config.get("encoding", "utf-8"),
            header=config.get("header", True),
            columns=tuple(columns) if columns else None,
            rename=dict(config.get("rename", {})),
        )
