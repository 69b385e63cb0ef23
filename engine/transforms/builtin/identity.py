"""Identity transforms: email and hash.

None passes through; blank text counts as missing for `email` (returns None) so an empty CSV cell
does not reject the row — add `required` after it when the address is mandatory.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from engine.transforms.base import Transform, TransformContext, TransformDef, TransformError
from engine.transforms.builtin._common import as_text, describe, schema

# Deliberately basic: one @, no spaces or control characters, a dotted domain of sane labels.
_LOCAL = r"[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f]{1,64}"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_TLD = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_ADDRESS = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+{_TLD})", re.IGNORECASE)
_MAX_ADDRESS = 254


def _build_email(args: dict[str, Any] | None, _ctx: TransformContext) -> Transform:
    lower_local = bool((args or {}).get("lowercase_local", False))
    match = _ADDRESS.fullmatch

    def email(value: Any) -> Any:
        if value is None:
            return None
        text = as_text(value, "email").strip()
        if not text:
            return None
        found = match(text) if len(text) <= _MAX_ADDRESS else None
        if found is None or ".." in text:
            raise TransformError(f"email: not a valid address: {describe(text)}")
        local, domain = found.groups()
        return f"{local.lower() if lower_local else local}@{domain.lower()}"

    return email


def _build_hash(args: dict[str, Any] | None, _ctx: TransformContext) -> Transform:
    options = args or {}
    salt = str(options.get("salt", "")).encode()
    trim = bool(options.get("trim", False))
    lower = bool(options.get("lowercase", False))
    sha256 = hashlib.sha256

    def hash_value(value: Any) -> Any:
        if value is None:
            return None
        text = as_text(value, "hash")
        if trim:
            text = text.strip()
        if lower:
            text = text.lower()
        return sha256(salt + text.encode()).hexdigest()

    return hash_value


DEFINITIONS = [
    TransformDef(
        name="email",
        args_schema=schema(
            {
                "type": ["object", "null"],
                "properties": {"lowercase_local": {"type": "boolean"}},
                "additionalProperties": False,
            }
        ),
        build=_build_email,
        summary=(
            "Trim, lowercase the domain (and the local part with `lowercase_local: true`) and "
            "reject what is plainly not an address. Blank text becomes None."
        ),
        example="{email: {lowercase_local: true}}",
        example_input=" Alice.Chen@Example.COM.tw ",
        example_output="alice.chen@example.com.tw",
    ),
    TransformDef(
        name="hash",
        args_schema=schema(
            {
                "type": ["object", "null"],
                "properties": {
                    "salt": {"type": "string"},
                    "trim": {"type": "boolean"},
                    "lowercase": {"type": "boolean"},
                },
                "additionalProperties": False,
            }
        ),
        build=_build_hash,
        summary=(
            "SHA-256 hex digest of salt + text (UTF-8), after optional `trim` and `lowercase`. "
            "Also usable bare: `hash`."
        ),
        example="{hash: {trim: true, lowercase: true}}",
        example_input=" Alice@Example.com",
        example_output="ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976",
    ),
]
