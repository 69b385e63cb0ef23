"""The complaint of an OmniSegment 400 answer, without what differs from record to record.

`data[3].nickname: custom text fields hold at most 1025 characters` and `data[17].motto: ...` are
the same complaint about different records; the "rejected alike" breaker counts them together.
Values (quoted text, numbers, lists), indexes and field names or lists of field names are taken
out; the error type (`Input Error`) and the wording stay.
"""

from __future__ import annotations

import re

_ERR_TYPE = re.compile(r"^([A-Z][\w ]*Error): ")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_LIST = re.compile(r"\[[^\[\]]*\]")
_PATH = re.compile(r"\b[A-Za-z_]\w*(?:\[[^\]]*\]|\.[A-Za-z_]\w*)+")
_NAME = r"[A-Za-z_]\w*"
_NAMES = re.compile(rf"\b{_NAME}(?:(?:,\s*|\s+(?:and|or|with)\s+){_NAME})+\b")
_AFTER_VERB = re.compile(
    rf"\b(requires|require|required|include|includes|missing|Missing)\s+(?!(?:in|by|for|to|the|a|an|at)\b){_NAME}\b"
)
_NUMBER = re.compile(r"-?\b\d+(?:\.\d+)?\b")
_SPACES = re.compile(r"\s+")


def reason_class(message: str) -> str:
    """'Input Error: <field>: custom text fields hold at most # characters'."""
    match = _ERR_TYPE.match(message)
    kind, text = (match.group(1), message[match.end() :]) if match else ("", message)
    text = _QUOTED.sub("<value>", text)
    text = _PATH.sub("<field>", text)
    text = _LIST.sub("<values>", text)
    text = _NAMES.sub(
        lambda m: "<fields>" if "_" in m.group(0) or "," in m.group(0) else m.group(0), text
    )
    text = _AFTER_VERB.sub(lambda m: f"{m.group(1)} <fields>", text)
    text = _NUMBER.sub("#", text)
    text = _SPACES.sub(" ", text).strip()
    return f"{kind}: {text}" if kind else text
