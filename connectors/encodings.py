"""Which encoding a text file is in, when it is not the one its spec declares.

A Big5 export read as UTF-8 rejects every row with Chinese in it, one by one, at run time. The
first bytes are cheap to look at: if they do not decode in the declared encoding but decode
cleanly in one of the encodings spreadsheets and ERP exports of the region use, that encoding is
named in a spec error, at its line, before anything is sent. One stray bad byte decodes in none of
them, so such a file keeps the per-row rejects it had.
"""

from __future__ import annotations

from collections.abc import Iterable

SAMPLE_BYTES = 256 * 1024  # how much of a file `validate` decodes beyond its header
# tried in this order: Taiwan's and Japan's exports first (the vendor's two regions)
CANDIDATES = ("utf-8", "big5", "cp950", "shift_jis", "euc-jp", "gb18030")


def guess(sample: bytes, declared: str) -> str | None:
    """The first candidate (other than the declared encoding) that decodes the whole sample."""
    for candidate in CANDIDATES:
        if candidate.replace("_", "-") == declared.lower().replace("_", "-"):
            continue
        try:
            sample.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def first_undecodable(
    lines: Iterable[bytes], codec: str, first: int, budget: int = SAMPLE_BYTES
) -> tuple[int, int, bytes] | None:
    """(line number, 1-based column, the sample read) of the first line of `lines` (numbered from
    `first`) that does not decode, reading at most `budget` bytes; None when they all decode."""
    sample = bytearray()
    found: tuple[int, int] | None = None
    for number, raw in enumerate(lines, start=first):
        sample += raw
        if found is None:
            try:
                raw.decode(codec)
            except UnicodeDecodeError as exc:
                found = (number, exc.start + 1)
        if len(sample) >= budget:
            break
    return None if found is None else (*found, bytes(sample))
