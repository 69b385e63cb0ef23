"""Which encoding a text file is in, when it is not the one its spec declares.

A Big5 export read as UTF-8 rejects every row with Chinese in it, one by one, at run time. The
first bytes are cheap to look at: if they do not decode in the declared encoding but decode
cleanly in one of the encodings spreadsheets and ERP exports of the region use, that encoding is
named in a spec error, at its line, before anything is sent. One stray bad byte decodes in none of
them, so such a file keeps the per-row rejects it had.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

SAMPLE_BYTES = 256 * 1024  # how much of a file `validate` decodes beyond its header
# tried in this order: Taiwan's and Japan's exports first (the vendor's two regions)
CANDIDATES = ("utf-8", "big5", "cp950", "shift_jis", "euc-jp", "gb18030")


def guess(sample: bytes, declared: str) -> str | None:
    """The first candidate (other than the declared encoding) that decodes the whole sample into
    text a person wrote. GB18030 decodes almost any bytes, a stray one into a private-use or
    unassigned character: such a reading is no evidence of the file's encoding."""
    for candidate in CANDIDATES:
        if candidate.replace("_", "-") == declared.lower().replace("_", "-"):
            continue
        try:
            text = sample.decode(candidate)
        except UnicodeDecodeError:
            continue
        if _written(text):
            return candidate
    return None


def _written(text: str) -> bool:
    """No control (but tab and line ends), private-use, surrogate or unassigned character."""
    return not any(
        unicodedata.category(char) in _NOT_WRITTEN and char not in "\t\r\n" for char in text
    )


_NOT_WRITTEN = frozenset({"Cc", "Co", "Cs", "Cn"})


def first_undecodable(
    lines: Iterable[bytes], codec: str, first: int, budget: int = SAMPLE_BYTES
) -> tuple[int, int, bytes] | None:
    """(line number, 1-based column, the sample read) of the first line of `lines` (numbered from
    `first`) that does not decode, reading at most `budget` bytes; None when they all decode, or
    when a line beyond ASCII does (the declared encoding is then the file's)."""
    sample = bytearray()
    found: tuple[int, int] | None = None
    for number, raw in enumerate(lines, start=first):
        sample += raw
        try:
            raw.decode(codec)
        except UnicodeDecodeError as exc:
            found = found or (number, exc.start + 1)
        else:
            if not raw.isascii():  # the declared encoding reads this file's own text: a line
                return None  # that fails is a stray bad byte, one rejected row
        if len(sample) >= budget:
            break
    return None if found is None else (*found, bytes(sample))
