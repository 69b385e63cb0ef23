"""Parquet files (a path or a glob), read a row group at a time; see connectors.files."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.files import PATH_ONLY_SCHEMA, FileSource


class ParquetSource(FileSource):
    """Values become JSON-safe as connectors.json_safe says (Decimal -> str, timestamps -> ISO 8601)."""

    format: ClassVar[str] = "parquet"
    config_schema: ClassVar[dict[str, Any]] = PATH_ONLY_SCHEMA
