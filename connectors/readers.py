"""Row readers over binary streams, shared by local files and S3 objects: CSV, JSON Lines, Parquet.

Each reader yields (number, values, error): the number is the physical line where the record
starts (CSV, JSON Lines) or the 1-based row number (Parquet); `error` is set, and `values` None,
when that record cannot be read. A bad record never stops the stream.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from connectors.csv_options import CSV_OPTIONS_SCHEMA, ENCODINGS, FORMATS, CsvOptions
from connectors.csv_rows import FormatError, Parsed, csv_columns, read_csv
from connectors.json_safe import json_safe
from connectors.lines import UTF8_BOM, universal_lines
from engine.errors import OmnisyncError

__all__ = [
    "CSV_OPTIONS_SCHEMA",
    "ENCODINGS",
    "FORMATS",
    "CsvOptions",
    "FormatError",
    "Parsed",
    "read_csv",
]

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


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
    fmt: str,
    stream: IO[bytes],
    name: str,
    options: CsvOptions,
    skip_to: int = 0,
    note: Callable[[str], None] | None = None,
) -> Iterator[Parsed]:
    """Records numbered above `skip_to` (lines or rows already read are parsed, not yielded).

    `note` receives what the reader changed on the way (trimmed header names)."""
    if fmt == "csv":
        return read_csv(decompressed(stream, name), options, skip_to, note)
    if fmt == "jsonl":
        return read_jsonl(decompressed(stream, name), skip_to)
    if fmt == "parquet":
        return read_parquet(stream, skip_to)
    raise OmnisyncError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


_BIG_INT = re.compile(rb"\d{19}")  # 19 digits may not fit 64 bits: orjson would make a float


def read_jsonl(stream: IO[bytes], skip_to: int = 0) -> Iterator[Parsed]:
    """One object per line (LF, CRLF or CR); integers of any size stay integers."""
    for number, raw in enumerate(universal_lines(stream), start=1):
        if number <= skip_to or not raw.strip():
            continue
        if number == 1 and raw.startswith(UTF8_BOM):
            raw = raw[3:]
        try:
            value = (
                json.loads(raw, parse_constant=_no_constant)
                if _BIG_INT.search(raw)
                else orjson.loads(raw)
            )
        except ValueError as exc:  # orjson's and json's JSONDecodeError, bad UTF-8, NaN
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield number, None, f"line {number}: not valid JSON ({reason})"
            continue
        if not isinstance(value, dict):
            yield (
                number,
                None,
                f"line {number}: expected a JSON object, found {type(value).__name__}",
            )
            continue
        yield number, value, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
            for values in _pylist(batch):
                number += 1
                if number <= skip_to:
                    continue
                if isinstance(values, str):
                    yield number, None, f"row {number}: {values}"
                else:
                    yield number, {k: json_safe(v) for k, v in values.items()}, None


def _pylist(batch: Any) -> list[dict[str, Any] | str]:
    """The batch's rows; a row holding a value Python cannot represent (a nanosecond timestamp past
    year 9999, ...) becomes the reason, so only that row is rejected."""
    try:
        rows: list[dict[str, Any] | str] = batch.to_pylist()
        return rows
    except (ValueError, OverflowError, ArithmeticError):
        pass
    rows = []
    for i in range(batch.num_rows):
        try:
            rows.append(batch.slice(i, 1).to_pylist()[0])
        except (ValueError, OverflowError, ArithmeticError) as exc:
            rows.append(f"a value cannot be read ({exc})")
    return rows


def buffered(raw: io.RawIOBase, size: int = 1 << 20) -> io.BufferedReader:
    """A buffered reader with 1 MiB reads, so S3 bodies are not fetched a few bytes at a time."""
    return io.BufferedReader(raw, buffer_size=size)


JSONL_SAMPLE = 1000  # rows of a JSON Lines file whose keys stand for its columns


def columns_of(fmt: str, stream: IO[bytes], name: str, options: CsvOptions) -> list[str] | None:
    """The columns a file offers: the CSV header (trimmed, renamed), the Parquet schema, or the
    keys of the first JSONL_SAMPLE objects of a JSON Lines file; None when the file is empty.

    A gzip stream cut short yields what was read before the cut (the read itself then rejects
    one row where it breaks)."""
    if fmt == "csv":
        try:
            return csv_columns(decompressed(stream, name), options)
        except (OSError, EOFError):
            return None
    if fmt == "jsonl":
        keys: dict[str, None] = {}
        try:
            for _number, values, _error in itertools.islice(
                read_jsonl(decompressed(stream, name)), JSONL_SAMPLE
            ):
                keys.update(dict.fromkeys(values or ()))
        except (OSError, EOFError):
            pass
        return list(keys) or None
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(stream).schema_arrow.names)
    except Exception as exc:  # pyarrow's ArrowInvalid and friends
        raise FormatError(f"not a readable Parquet file ({exc})") from None
