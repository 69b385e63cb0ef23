"""JSON Lines files (a path or a glob, optionally .gz), one object per line; see connectors.files."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.files import PATH_ONLY_SCHEMA, FileSource


class JsonlSource(FileSource):
    """A line that is not a JSON object is rejected with its file and line."""

    format: ClassVar[str] = "jsonl"
    config_schema: ClassVar[dict[str, Any]] = PATH_ONLY_SCHEMA
