"""CSV records from a byte stream: one bad record is rejected with its line, never the file.

- Lines end at LF, CRLF or CR (connectors.lines); each physical line is decoded on its own, so a
  line that does not decode rejects the record that holds it and nothing else.
- A UTF-8 byte order mark is dropped whatever the declared encoding; header names are trimmed of
  spaces (a note says so), because ` member_sn ` would otherwise match no mapping.
- Quoting is strict: `"a"b` or a NUL byte rejects its record with the reason. A quote opened and
  never closed would swallow the rest of the file into one field: that record is rejected at the
  line of the quote, and the lines after it are read again as records of their own.
- Fields may be up to FIELD_LIMIT long (the csv module's default, 128 KiB, is too small for
  free-text exports); a longer one rejects its record.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import IO, Any

from connectors.encodings import first_undecodable, guess
from connectors.lines import UTF8_BOM, UTF16_BOMS, universal_lines
from engine.errors import OmnisyncError, SourceSettingError
from engine.suggest import suggest

Parsed = tuple[int, dict[str, Any] | None, str | None]

FIELD_LIMIT = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))


class FormatError(OmnisyncError):
    """A file cannot be read at all (its header, its footer); the message names the line."""


class _Lines:
    """Decodes one physical line at a time; a line that does not decode is remembered, not fatal.

    The csv module pulls as many lines as a record needs (quoted fields span lines), so a bad
    line is charged to the record that consumed it. The lines of the record being read are kept
    (`taken`), so that a record cut short by an unclosed quote can be read again line by line.
    """

    def __init__(self, lines: Iterable[bytes], encoding: str, first: int = 1) -> None:
        self.lines = lines
        self.codec = "utf-8" if encoding == "utf-8-sig" else encoding
        self.encoding = encoding
        self.count = first - 1
        self.bad: dict[int, str] = {}
        self.taken: list[bytes] = []

    def __iter__(self) -> Iterator[str]:
        codec, taken = self.codec, self.taken
        for raw in self.lines:
            self.count += 1
            taken.append(raw)
            if self.count == 1 and raw.startswith(UTF8_BOM):
                raw = raw[3:]
            try:
                line = raw.decode(codec)
            except UnicodeDecodeError as exc:
                self.bad[self.count] = self._undecodable(raw, exc)
                line = raw.decode(codec, errors="replace")
            if "\x00" in line:
                self.bad.setdefault(
                    self.count,
                    f"line {self.count}: holds a NUL byte (column {line.index(chr(0)) + 1}); "
                    "is the file binary, or UTF-16?",
                )
            yield line

    def _undecodable(self, raw: bytes, exc: UnicodeDecodeError) -> str:
        hint = ""
        if self.count == 1 and raw.startswith(UTF16_BOMS):
            hint = "; the file looks like UTF-16: save it as UTF-8 or set `encoding:`"
        return (
            f"line {self.count}: not valid {self.encoding} "
            f"(byte 0x{raw[exc.start]:02x} at column {exc.start + 1}){hint}"
        )

    def problems(self, first: int, last: int) -> list[str]:
        return [self.bad.pop(n) for n in range(first, last + 1) if n in self.bad]


def read_csv(
    stream: IO[bytes],
    options: Any,
    skip_to: int = 0,
    note: Callable[[str], None] | None = None,
) -> Iterator[Parsed]:
    """Records numbered by the line they start on; those at or before `skip_to` are not yielded."""
    lines = _Lines(universal_lines(stream), options.encoding)
    reader = _reader(lines, options)
    columns = _columns(reader, lines, options, note)
    if columns is None:
        return
    while True:
        leftover = yield from _records(reader, lines, columns, skip_to)
        if not leftover:
            return
        # an unclosed quote at the first of these lines: read the others again as records
        lines = _Lines(leftover[1:], options.encoding, first=lines.count - len(leftover) + 2)
        reader = _reader(lines, options)


def csv_columns(stream: IO[bytes], options: Any) -> list[str] | None:
    """The column names records will have (the header trimmed and renamed); None for an empty
    file (no header: nothing to check, and nothing will be read). The lines after the header, up
    to SAMPLE_BYTES, are decoded too: a file in another encoding is a setting error here."""
    lines = _Lines(universal_lines(stream), options.encoding)
    columns = _columns(_reader(lines, options), lines, options, None)
    bad = first_undecodable(lines.lines, lines.codec, lines.count + 1)
    if bad is not None:
        number, column, sample = bad
        _wrong_encoding(f"line {number}", column, sample, options.encoding)
    return columns


def _wrong_encoding(where: str, column: int, sample: bytes, declared: str) -> None:
    """A SourceSettingError when another encoding reads the sample cleanly; else nothing (a stray
    bad byte stays one rejected row)."""
    better = guess(sample, declared)
    if better is not None:
        raise SourceSettingError(
            f"{where} is not {declared} text (column {column}); the file reads cleanly as "
            f"{better}: set `encoding: {better}` in the source block (or under defaults:)",
            ("encoding",),
        )


def _columns(
    reader: Any, lines: _Lines, options: Any, note: Callable[[str], None] | None
) -> list[str] | None:
    columns = list(options.columns) if options.columns else None
    if options.header:
        header = next(reader, None)
        if header is None:
            return None
        if lines.bad:
            problem = lines.problems(1, lines.count)[0]
            bad = first_undecodable(lines.taken, lines.codec, 1)
            if bad is not None and not lines.taken[0].startswith(UTF16_BOMS):
                _wrong_encoding("the header", bad[1], bad[2], options.encoding)
            raise FormatError(f"header: {problem}")
        header = _trimmed(header, note)
        columns = columns or header
    assert columns is not None  # the schema asks for `columns` when header is false
    lines.taken.clear()
    return _renamed(columns, options.rename)


def _reader(lines: _Lines, options: Any) -> Any:
    return csv.reader(
        iter(lines), delimiter=options.delimiter, quotechar=options.quotechar, strict=True
    )


def _records(
    reader: Any, lines: _Lines, columns: list[str], skip_to: int
) -> Generator[Parsed, None, list[bytes]]:
    """Yields the records; returns the lines of a record that ran to the end inside a quote."""
    width = len(columns)
    last = lines.count
    taken = lines.taken
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            first, last = last + 1, lines.count
            lines.problems(first, last)
            if str(exc) == "unexpected end of data" and len(taken) > 1:
                if first > skip_to:
                    yield (
                        first,
                        None,
                        (
                            f"line {first}: a quote opened on this line is never closed "
                            f"(lines {first + 1}-{last} are read again on their own)"
                        ),
                    )
                return list(taken)
            taken.clear()
            if first > skip_to:
                yield first, None, f"line {first}: {exc}"
            continue
        taken.clear()
        first, last = last + 1, lines.count
        problems = lines.problems(first, last)
        if first <= skip_to or not cells:
            continue
        if problems:
            yield first, None, "; ".join(problems)
        elif len(cells) != width:
            yield first, None, f"line {first}: expected {width} columns, found {len(cells)}"
        else:
            yield first, dict(zip(columns, cells, strict=True)), None


def _trimmed(header: list[str], note: Callable[[str], None] | None) -> list[str]:
    if header and header[0].startswith("\ufeff"):  # a BOM the declared codec decoded as text
        header[0] = header[0][1:]
    trimmed = [name.strip() for name in header]
    padded = [repr(name) for name, clean in zip(header, trimmed, strict=True) if name != clean]
    if padded and note is not None:
        note(f"header names trimmed of spaces: {', '.join(padded)}")
    return trimmed


def _renamed(columns: list[str], rename: Mapping[str, str]) -> list[str]:
    missing = sorted(set(rename) - set(columns))
    if missing:
        name = missing[0]
        raise SourceSettingError(
            f"rename: the header has no column '{name}'{suggest(name, columns)}; its columns: "
            f"{', '.join(columns)}: rename a column the header has, or drop this line",
            ("rename", name),
            at_key=True,
        )
    renamed = [rename.get(c, c) for c in columns]
    duplicated = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicated:
        raise FormatError(f"header: column {', '.join(map(repr, duplicated))} appears twice")
    return renamed
