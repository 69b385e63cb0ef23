"""What a stored position means: the source type, its block and the incremental cursor, hashed.

A position is only meaningful for the source that produced it: (path, line) of another file
pattern, or a cursor value of another column, would skip the wrong rows. The mapping, the
destination and the delivery settings are left out on purpose: they may change freely between a
crash and its rerun. Secrets are taken out before hashing (a URL's password, and every value the
spec interpolated from a secret-looking variable, except a URL, which keeps its host and database
and loses only its password), so a rotated password does not make a position
stale and no digest of a secret is ever stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@/\s]*@")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MASK = "***"


def fingerprint(
    source_type: str, source: Mapping[str, Any], cursor: str | None, secrets: Iterable[str] = ()
) -> str:
    # a secret URL (DATABASE_URL) loses only its password: its host and database still count
    hidden = sorted((s for s in secrets if s and not _URL.match(s)), key=len, reverse=True)
    meaning = {"source": source_type, "block": _scrub(source, hidden), "cursor": cursor}
    text = json.dumps(meaning, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", value)
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, Mapping):
        return {str(k): _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    return value


def destination_fingerprint(
    destination_type: str,
    connection: Mapping[str, Any],
    block: Mapping[str, Any],
    secrets: Iterable[str] = (),
) -> str:
    """What a record digest means: where it was delivered (the account, the endpoint and its
    options), secrets taken out so a rotated key does not make every record look changed."""
    return fingerprint(destination_type, {"connection": connection, "sync": block}, None, secrets)
