"""The api_key from `api_key_file:` (a mounted CI secret), as safely as from the environment.

The key is registered for redaction the moment it is read; a message about the file names the
file and what is wrong with it, never a byte of its content.
"""

from __future__ import annotations

from pathlib import Path

from engine.logging import register_secrets

MAX_KEY_BYTES = 4096  # a key is a line; a bigger file is not a key file


class KeyFileError(ValueError):
    """The key file cannot serve as a key; the message is safe to print."""


def read_key_file(path: str) -> str:
    """The file's one line, stripped; KeyFileError if missing, unreadable, empty or not a key."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_KEY_BYTES:
        raise KeyFileError(f"{path} is larger than {MAX_KEY_BYTES} bytes: not a key file")
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyFileError(f"{path} is not UTF-8 text") from None
    if not key:
        raise KeyFileError(f"{path} is empty")
    if any(c.isspace() or ord(c) < 32 for c in key):
        raise KeyFileError(f"{path} holds more than one line or word: a key is one token")
    register_secrets([key])
    return key
