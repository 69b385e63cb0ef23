"""The complaint of an OmniSegment 400 answer, without what differs from record to record.

`data[3].nickname: custom text fields hold at most 1025 characters` and
`data[17].motto, data[17].bio: ...` are the same complaint about different records; so are
`Missing required fields: hit_type` and `Missing required fields: client_id, tid`. The "rejected
alike" breaker counts them together. Values (quoted text, lists, numbers) and the fields a message
names, one or a list of them, are taken out; the error type (`Input Error`) and the wording stay.

A name is a field when it is a path (`data[3].sex`), written in snake_case, or stands where a
message names fields: after `requires`/`missing`/`fields:`, before `required`.
"""

from __future__ import annotations

import re

_ERR_TYPE = re.compile(r"^([A-Z][\w ]*Error): ")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NAME = r"[A-Za-z_]\w*"
_ITEM = rf"{_NAME}(?:\[[^\]]*\]|\.{_NAME})*"  # a name or a path: data[3].nickname
_JOIN = r"(?:\s*,\s*|\s+(?:and|or|with)\s+)"
_RUN = re.compile(rf"\b{_ITEM}(?:{_JOIN}{_ITEM})*")  # one name or path, or a list of them
_BEFORE = re.compile(
    r"(?:\b(?:requires|require|include|includes|missing|Missing)|\bfields?\s*:)\s*$"
)
_AFTER = re.compile(r"^\s+(?:(?:is|are)\s+)?required\b")
_WORDS = frozenset(
    {"required", "field", "fields", "value", "values", "in", "by", "for", "to", "the", "a", "an",
     "at", "is", "are", "be", "should", "must", "not", "when", "if", "of", "one", "Missing",
     "missing"}
)  # fmt: skip
_VERB = re.compile(r"<fields> (?:is|are) required\b")
_PLURAL = re.compile(r"\bfield\b")
_VALUES = re.compile(r"\[[^\[\]]*\]")
_NUMBER = re.compile(r"-?\b\d+(?:\.\d+)?\b")
_SPACES = re.compile(r"\s+")


def reason_class(message: str) -> str:
    """'Input Error: <fields>: custom text fields hold at most # characters'."""
    match = _ERR_TYPE.match(message)
    kind, text = (match.group(1), message[match.end() :]) if match else ("", message)
    text = _QUOTED.sub("<value>", text)
    text = _RUN.sub(lambda found: _fields(found, text), text)
    text = _VERB.sub("<fields> required", text)
    text = _PLURAL.sub("fields", text)
    text = _VALUES.sub("<values>", text)
    text = _NUMBER.sub("#", text)
    text = _SPACES.sub(" ", text).strip()
    return f"{kind}: {text}" if kind else text


def _fields(found: re.Match[str], text: str) -> str:
    """`<fields>` for a run of names that are fields, the run itself otherwise."""
    run = found.group()
    if "[" in run or "." in run or "_" in run or "," in run:
        return "<fields>"
    first = run.split(None, 1)[0]
    if first in _WORDS:
        return run
    placed = _BEFORE.search(text[: found.start()]) or _AFTER.match(text[found.end() :])
    return "<fields>" if placed else run
