"""Did-you-mean hints, shared by spec checks, the mapping compiler and plugins' own checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggest"]


_CLOSE = 0.6  # difflib's ratio for a likely typo
_CLOSE_ELSEWHERE = 0.8  # ... when the first letter differs too: 'taiwan' is no typo of 'staging'


def suggest(word: str, choices: Iterable[str]) -> str:
    """The closest choice as `" (did you mean 'x'?)"`, or "" when nothing is close enough: a wrong
    suggestion sends the reader the wrong way, so one whose first letter differs must be closer."""
    for match in difflib.get_close_matches(word, list(choices), n=3, cutoff=_CLOSE):
        same_start = match[:1].lower() == word[:1].lower()
        if same_start or difflib.SequenceMatcher(None, word, match).ratio() >= _CLOSE_ELSEWHERE:
            return f" (did you mean '{match}'?)"
    return ""
