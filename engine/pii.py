"""Personal data kept out of everything omnisync prints or writes, unless `--reveal-pii` asks.

Records are masked field by field (a personal field is one the destination names, or one whose
name says so). Reasons are text: every reason names its value as a Python literal ('...'), so
the quoted parts are masked when the field is personal or unknown. Anywhere else (logs, server
messages) an e-mail address or a long phone number is masked wherever it appears.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["is_personal", "mask", "mask_fields", "mask_reason", "mask_text"]

_PERSONAL_KEY = re.compile(r"name|mail|phone|mobile|tel|address|birth|dob|line_id", re.IGNORECASE)
_QUOTED = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")
_EMAIL = re.compile(r"[^\s'\"<>@,;:()\[\]{}]+@[^\s'\"<>@,;()\[\]{}]+")
_PHONE = re.compile(r"(?<![\w.])\+?\d{8,15}(?![\w.])")
_NUMBER = re.compile(r"[+(]?\d[\d\s().-]*")  # a phone or card number as written


def mask(value: Any) -> Any:
    """Keep enough to recognise a value, not enough to use it: e***@example.com, +8*********78,
    王**. A number keeps both ends; any other text only its first character, since the end of a
    name is the given name (`Smith冠宇` shows neither 冠宇 nor its last letters).

    Objects and lists (a shipping address) are masked value by value."""
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    if not isinstance(value, str) or not value:
        return value
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 2:
        return "*" * len(value)
    if len(value) <= 6 or not _NUMBER.fullmatch(value):
        return value[0] + "*" * (len(value) - 1)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def is_personal(field: str | None, personal: frozenset[str]) -> bool:
    """A field the destination calls personal, or whose name (any part of a.b.c) sounds so."""
    if field is None:
        return True  # unknown: assume the worst
    return (
        field in personal or field.split(".", 1)[0] in personal or bool(_PERSONAL_KEY.search(field))
    )


def mask_fields(record: Any, personal: frozenset[str]) -> Any:
    """Personal fields of an object masked; a bare value (a blacklist entry) is an identifier."""
    if not isinstance(record, dict):
        return mask(record)
    return {
        key: mask(value) if key in personal or _PERSONAL_KEY.search(str(key)) else value
        for key, value in record.items()
    }


def mask_reason(reason: str, field: str | None, personal: frozenset[str]) -> str:
    """`email: not a valid address: 'alice.chen@example'` -> `... 'a***@example'`."""
    if is_personal(field, personal):
        reason = _QUOTED.sub(_mask_quoted, reason)
    return mask_text(reason)


def mask_text(text: str) -> str:
    """E-mail addresses and long phone numbers masked wherever they appear in free text."""
    if "@" in text:
        text = _EMAIL.sub(_mask_address, text)
    return _PHONE.sub(lambda found: str(mask(found.group())), text)


def _mask_address(found: re.Match[str]) -> str:
    """An address masked; the user of a URL (`postgresql://app@db/x`, as in
    `postgresql://app:***@db/x`) is an account, not an address, and stays; a path before an
    address stays too (`exports/b***@example.com.csv`)."""
    local, _, domain = found.group().partition("@")
    head, slash, name = local.rpartition("/")
    if head == "/" or set(name) <= {"*"}:  # `//user@host`: a URL's user; `***`: masked already
        return found.group()
    return f"{head}{slash}{mask(f'{name}@{domain}')}"


def _mask_quoted(found: re.Match[str]) -> str:
    single, double = found.group(1), found.group(2)
    quote, inner = ("'", single) if single is not None else ('"', double)
    if inner.endswith("..."):  # a value shortened for the message: mask what is shown
        return f"{quote}{mask(inner[:-3])}...{quote}"
    return f"{quote}{mask(inner)}{quote}"
