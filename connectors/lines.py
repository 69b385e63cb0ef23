"""Physical lines of a byte stream with universal newlines: LF, CRLF and CR-only, mixed freely.

Exports from spreadsheets and old systems end lines with CR alone, or mix all three in one file.
Splitting only on LF would glue CR-only lines into one giant record (rows lost or the sync stopped);
here each terminator ends a line and stays attached to it, so the csv module still sees the exact
characters of a quoted field that spans lines. Safe for every supported encoding: in none of them
can a CR or LF byte be part of a multi-byte character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def universal_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Each line with its terminator; `chunks` are LF-split lines (iterating a binary stream).

    A CRLF never straddles two chunks (the LF ends the chunk that holds its CR), so a chunk is
    split on its own; the common case, a chunk without CR or with only a final CRLF, is one test.
    """
    for raw in chunks:
        cr = raw.find(b"\r")
        if cr < 0 or (cr == len(raw) - 2 and raw.endswith(b"\r\n")):
            yield raw
            continue
        yield from _LINE.findall(raw)
