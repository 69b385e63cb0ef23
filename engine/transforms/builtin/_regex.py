"""Regular expressions from specs run on RE2: linear in the text, whatever the pattern.

A spec's pattern is untrusted: with Python's backtracking engine `^(a+)+$` takes minutes on a
39-character value, in C, where no signal can stop it. RE2 (google-re2) never backtracks. It runs
the Python syntax a spec author knows, minus backreferences and lookaround, which it refuses.
Pattern and replacement are also checked by Python's own parser, so what Python calls an error
(a repetition count too large, a group that does not exist) is one here too, at compile time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

from engine.transforms.base import TransformArgsError

Substitute = Callable[[str, int], str]  # (text, count) -> text
_MAX_PROGRAM_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern (its default)
_TEMPLATE_TOKEN = re.compile(r"\\(?:g<([^>]*)>|([1-9][0-9]?)|(0[0-7]{0,2})|(.))", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b", "\\": "\\"}


def compile_substitution(
    pattern: str, replacement: str, ignore_case: bool, owner: str
) -> Substitute:
    """`sub(text, count)` replacing the pattern; TransformArgsError for what cannot run."""
    try:
        python = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, OverflowError, RecursionError) as exc:
        raise TransformArgsError(f"{owner}: bad pattern {pattern!r}: {exc}") from None
    try:
        python.sub(replacement, "")  # Python parses the template here, before any match
    except (re.error, IndexError) as exc:
        raise TransformArgsError(f"{owner}: bad replacement {replacement!r}: {exc}") from None
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    options.max_mem = _MAX_PROGRAM_MEMORY
    try:
        compiled: Any = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise TransformArgsError(
            f"{owner}: pattern {pattern!r} cannot run on the linear-time engine (RE2): {reason}"
            " (backreferences and lookaround are not supported)"
        ) from None
    expand = _template(replacement, python.groupindex)
    sub = compiled.sub

    def substitute(text: str, count: int) -> str:
        result: str = sub(expand, text, count)
        return result

    return substitute


def _template(replacement: str, names: Any) -> Callable[[Any], str]:
    """Python's replacement syntax (\\1, \\g<name>, \\n), parsed once (RE2's own mangles non-ASCII)."""
    pieces: list[str | int] = []
    end = 0
    for token in _TEMPLATE_TOKEN.finditer(replacement):
        pieces.append(replacement[end : token.start()])
        end = token.end()
        named, number, octal, other = token.groups()
        if named is not None:
            pieces.append(int(named) if named.isdigit() else int(names[named]))
        elif number is not None:
            pieces.append(int(number))
        elif octal is not None:
            pieces.append(chr(int(octal, 8)))
        else:
            pieces.append(_ESCAPES.get(other, "\\" + other))
    pieces.append(replacement[end:])
    if all(isinstance(piece, str) for piece in pieces):
        constant = "".join(str(piece) for piece in pieces)
        return lambda _match: constant

    def expand(match: Any) -> str:
        return "".join(
            piece if isinstance(piece, str) else (match.group(piece) or "") for piece in pieces
        )

    return expand
