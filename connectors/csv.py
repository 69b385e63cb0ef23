"""CSV files (a path or a glob), streamed row by row; the position is (file index, line)."""

from __future__ import annotations

import csv
import glob
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from engine.contracts import SourceContext
from engine.errors import OmnisyncError
from engine.records import Position, Row


class CsvSource:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "minLength": 1, "description": "File path or glob"},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
            "quotechar": {"type": "string", "minLength": 1, "maxLength": 1},
            "encoding": {"enum": ["utf-8", "utf-8-sig"]},
            "header": {"type": "boolean", "description": "First line names the columns"},
            "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "additionalProperties": False,
    }

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        pattern = Path(config["path"])
        self.pattern = pattern if pattern.is_absolute() else context.spec_dir / pattern
        self.delimiter = config.get("delimiter", ",")
        self.quotechar = config.get("quotechar", '"')
        self.encoding = config.get("encoding", "utf-8")
        self.header = config.get("header", True)
        self.columns: list[str] | None = config.get("columns")
        self.files = self._files()

    def _files(self) -> list[Path]:
        matches = sorted(Path(p) for p in glob.glob(str(self.pattern)))
        if not matches:
            raise OmnisyncError(f"csv source: no file matches {self.pattern}")
        return matches

    def locate(self, position: Position) -> str:
        file_index, line = position
        return f"{self.files[file_index].name}:{line}"

    async def read(self, resume: Position | None) -> AsyncIterator[Row]:
        for index, path in enumerate(self.files):
            if resume is not None and index < resume[0]:
                continue
            skip_to = resume[1] if resume is not None and index == resume[0] else 0
            for row in self._read_file(index, path, skip_to):
                yield row

    def _read_file(self, index: int, path: Path, skip_to: int) -> Any:
        with path.open(newline="", encoding=self.encoding) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, quotechar=self.quotechar)
            columns = self.columns
            try:
                if self.header:
                    header = next(reader, None)
                    columns = columns or header
                if columns is None:
                    return
                width = len(columns)
                for cells in reader:
                    line = reader.line_num
                    if line <= skip_to or not cells:
                        continue
                    if len(cells) != width:
                        error = f"expected {width} columns, found {len(cells)}"
                        yield Row(None, (index, line), error)
                        continue
                    yield Row(dict(zip(columns, cells, strict=True)), (index, line))
            except UnicodeDecodeError as exc:
                raise OmnisyncError(
                    f"{path.name}:{reader.line_num + 1}: not valid {self.encoding}: {exc.reason}"
                ) from None
            except csv.Error as exc:
                raise OmnisyncError(f"{path.name}:{reader.line_num}: {exc}") from None

    def estimate_total(self) -> int | None:
        """Rows in every file, estimated from the size and the first 64 KiB (for the progress ETA)."""
        size = sum(path.stat().st_size for path in self.files)
        with self.files[0].open("rb") as handle:
            sample = handle.read(65536)
        lines = sample.count(b"\n")
        if not lines:
            return None
        return max(0, round(size * lines / len(sample)) - (len(self.files) if self.header else 0))
