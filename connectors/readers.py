"""Row readers over binary streams, shared by local files and S3 objects: CSV, JSON Lines, Parquet.

Each reader yields (number, values, error): the number is the physical line where the record
starts (CSV, JSON Lines) or the 1-based row number (Parquet); `error` is set, and `values` None,
when that record cannot be read. A bad record never stops the stream.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from connectors.json_safe import json_safe
from engine.errors import OmnisyncError

Parsed = tuple[int, dict[str, Any] | None, str | None]

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

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}

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


class FormatError(OmnisyncError):
    """A file cannot be read at all (its header, its footer); the message names the line."""


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


def format_of(name: str, configured: str | None = None) -> str:
    """The configured format, else the one the name's suffix (before any .gz) says."""
    if configured:
        return configured
    stem = name[:-3] if name.endswith(".gz") else name
    for suffix, fmt in _SUFFIXES.items():
        if stem.lower().endswith(suffix):
            return fmt
    raise OmnisyncError(f"{name}: cannot tell its format from its name; set `format:`")


def decompressed(stream: IO[bytes], name: str) -> IO[bytes]:
    """Gzip is undone on the fly, never in memory as a whole."""
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def read_records(
    fmt: str, stream: IO[bytes], name: str, options: CsvOptions, skip_to: int = 0
) -> Iterator[Parsed]:
    """Records numbered above `skip_to` (lines or rows already read are parsed, not yielded)."""
    if fmt == "csv":
        return read_csv(decompressed(stream, name), options, skip_to)
    if fmt == "jsonl":
        return read_jsonl(decompressed(stream, name), skip_to)
    if fmt == "parquet":
        return read_parquet(stream, skip_to)
    raise OmnisyncError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


class _Lines:
    """Decodes one physical line at a time; a line that does not decode is remembered, not fatal.

    The csv module pulls as many lines as a record needs (quoted fields span lines), so a bad
    line is charged to the record that consumed it.
    """

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self.stream = stream
        self.codec = "utf-8" if encoding == "utf-8-sig" else encoding
        self.strip_bom = encoding == "utf-8-sig"
        self.encoding = encoding
        self.count = 0
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.count += 1
            if self.count == 1 and self.strip_bom and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode(self.codec)
            except UnicodeDecodeError as exc:
                self.bad[self.count] = (
                    f"line {self.count}: not valid {self.encoding} "
                    f"(byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                )
                yield raw.decode(self.codec, errors="replace")

    def problems(self, first: int, last: int) -> list[str]:
        """The decoding errors of lines first..last, each handed out once."""
        return [self.bad.pop(n) for n in range(first, last + 1) if n in self.bad]


def read_csv(stream: IO[bytes], options: CsvOptions, skip_to: int = 0) -> Iterator[Parsed]:
    """CSV records with their first line; a bad record becomes an error, never a stop."""
    lines = _Lines(stream, options.encoding)
    reader = csv.reader(iter(lines), delimiter=options.delimiter, quotechar=options.quotechar)
    columns = list(options.columns) if options.columns else None
    if options.header:
        header = next(reader, None)
        if header is None:
            return
        if lines.bad:
            raise FormatError(f"header: {lines.problems(1, reader.line_num)[0]}")
        columns = columns or header
    assert columns is not None  # the schema asks for `columns` when header is false
    columns = _renamed(columns, options.rename)
    width = len(columns)
    last = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first, last = last + 1, reader.line_num
            if first > skip_to:
                yield first, None, f"line {first}: {exc}"
            continue
        first, last = last + 1, reader.line_num
        problems = lines.problems(first, last)
        if first <= skip_to or not cells:
            continue
        if problems:
            yield first, None, "; ".join(problems)
        elif len(cells) != width:
            yield first, None, f"line {first}: expected {width} columns, found {len(cells)}"
        else:
            yield first, dict(zip(columns, cells, strict=True)), None


def _renamed(columns: list[str], rename: Mapping[str, str]) -> list[str]:
    missing = sorted(set(rename) - set(columns))
    if missing:
        raise FormatError(
            f"rename: no column named {', '.join(map(repr, missing))} in the header "
            f"(columns: {', '.join(columns)})"
        )
    renamed = [rename.get(c, c) for c in columns]
    duplicated = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicated:
        raise FormatError(f"header: column {', '.join(map(repr, duplicated))} appears twice")
    return renamed


def read_jsonl(stream: IO[bytes], skip_to: int = 0) -> Iterator[Parsed]:
    """One JSON object per line; blank lines skipped, anything else rejected with its line."""
    for number, raw in enumerate(stream, start=1):
        if number <= skip_to or not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield number, None, f"line {number}: not valid JSON ({exc.msg})"
            continue
        if not isinstance(value, dict):
            yield (
                number,
                None,
                f"line {number}: expected a JSON object, found {type(value).__name__}",
            )
            continue
        yield number, value, None


def read_parquet(stream: IO[bytes], skip_to: int = 0, batch_rows: int = 4096) -> Iterator[Parsed]:
    """Row group by row group, a batch at a time; groups wholly before `skip_to` are not read."""
    # heavy, so imported only for Parquet reads; pyarrow ships no type information
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        parquet = pq.ParquetFile(stream)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends: not a Parquet file
        raise FormatError(f"not a readable Parquet file ({exc})") from None
    with parquet:
        first, number = 0, 0
        while first < parquet.num_row_groups:
            rows = parquet.metadata.row_group(first).num_rows
            if number + rows > skip_to:
                break
            number += rows
            first += 1
        groups = list(range(first, parquet.num_row_groups))
        if not groups:
            return
        for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=groups):
            for values in batch.to_pylist():
                number += 1
                if number > skip_to:
                    yield number, {k: json_safe(v) for k, v in values.items()}, None


def buffered(raw: io.RawIOBase, size: int = 1 << 20) -> io.BufferedReader:
    """A buffered reader with 1 MiB reads, so S3 bodies are not fetched a few bytes at a time."""
    return io.BufferedReader(raw, buffer_size=size)
