"""Did-you-mean hints, shared by spec checks, the mapping compiler and plugins' own checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggest"]


def suggest(word: str, choices: Iterable[str]) -> str:
    """The closest choice as `" (did you mean 'x'?)"`, or "" when nothing is close enough."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
