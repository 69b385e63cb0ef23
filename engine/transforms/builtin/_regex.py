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

from engine.lazy import lazy_module
from engine.transforms.base import TransformArgsError

re2 = lazy_module("re2")  # google-re2 ships no type hints; loaded when a spec uses a regex

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
        compiled: Any = re2.compile(unicode_classes(pattern, owner), options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise TransformArgsError(
            f"{owner}: pattern {pattern!r} cannot run on the linear-time engine (RE2): {reason}"
            " (backreferences and lookaround are not supported)"
        ) from None
    return _substitution(compiled._regexp, _template(replacement, python.groupindex))


# Python's \\d \\w \\s match any script on text; RE2's match ASCII only: spell out the Unicode sets
_SPACE = r"\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}"
_CLASSES = {"d": r"\p{Nd}", "w": r"\p{L}\p{N}_", "s": _SPACE}


def unicode_classes(pattern: str, owner: str) -> str:
    """\\d, \\w, \\s (and \\D, \\W, \\S outside brackets) with Python's Unicode meaning, for RE2."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            letter = pattern[i + 1]
            i += 2
            if letter.lower() in _CLASSES:
                body = _CLASSES[letter.lower()]
                if in_class and letter.isupper():
                    raise TransformArgsError(
                        f"{owner}: \\{letter} inside [...] cannot run on RE2: write the set as [^...]"
                    )
                if in_class:
                    out.append(body)
                else:
                    out.append(f"[{'^' if letter.isupper() else ''}{body}]")
            else:
                out.append("\\" + letter)
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            i += 1
            for lead in ("^", "]"):  # []...] and [^]...]: a ] first is a literal
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _substitution(regexp: Any, pieces: list[bytes | int]) -> Substitute:
    """Python's `sub` semantics on RE2's match, over the UTF-8 bytes (one encode, one decode)."""
    match = regexp.Match
    unanchored = re2._re2.RE2.Anchor.UNANCHORED
    constant = b"".join(p for p in pieces if isinstance(p, bytes)) if _constant(pieces) else None

    def substitute(text: str, count: int) -> str:
        data = text.encode("utf-8", "surrogatepass")
        end = len(data)
        spans = match(unanchored, data, 0, end)
        if spans[0][0] == -1:
            return text  # the common case: nothing to replace
        out: list[bytes] = []
        last = done = 0
        while True:
            start, stop = spans[0]
            out.append(data[last:start])
            if constant is not None:
                out.append(constant)
            else:
                out.extend(_expand(pieces, spans, data))
            last, done = stop, done + 1
            if (count and done >= count) or (stop >= end and start == stop):
                break
            position = stop if stop > start else stop + _char_length(data[stop])
            if position > end:
                break
            spans = match(unanchored, data, position, end)
            if spans[0][0] == -1:
                break
        out.append(data[last:])
        return b"".join(out).decode("utf-8", "surrogatepass")

    return substitute


def _constant(pieces: list[bytes | int]) -> bool:
    return all(isinstance(piece, bytes) for piece in pieces)


def _expand(pieces: list[bytes | int], spans: Any, data: bytes) -> list[bytes]:
    out = []
    for piece in pieces:
        if isinstance(piece, bytes):
            out.append(piece)
        else:
            start, stop = spans[piece]
            if start != -1:
                out.append(data[start:stop])
    return out


def _char_length(lead: int) -> int:
    """Bytes in the UTF-8 character starting with this byte (1 for a stray byte)."""
    if lead < 0xC0:
        return 1
    return 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def _template(replacement: str, names: Any) -> list[bytes | int]:
    """Python's replacement syntax (\\1, \\g<name>, \\n), parsed once into UTF-8 pieces and group
    numbers (RE2's own expansion mangles non-ASCII text)."""
    pieces: list[bytes | int] = []
    end = 0
    for token in _TEMPLATE_TOKEN.finditer(replacement):
        pieces.append(replacement[end : token.start()].encode())
        end = token.end()
        named, number, octal, other = token.groups()
        if named is not None:
            pieces.append(int(named) if named.isdigit() else int(names[named]))
        elif number is not None:
            pieces.append(int(number))
        elif octal is not None:
            pieces.append(chr(int(octal, 8)).encode())
        else:
            pieces.append(_ESCAPES.get(other, "\\" + other).encode())
    pieces.append(replacement[end:].encode())
    return [piece for piece in pieces if piece != b""]
