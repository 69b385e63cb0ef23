"""File names derived from sync names, kept within what every file system accepts.

A sync name has no length limit, but a file name does (255 bytes on ext4, APFS, NTFS): a long
name would crash the run when its reject file is first written. A component that is too long keeps
its beginning and gains a short hash of the whole, so two long names never share a file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

NAME_MAX = 255  # bytes in one path component, the common limit


def reject_path(directory: Path, template: str | None, sync: str) -> Path:
    """`template` with {sync} replaced (default .omnisync/rejects-{sync}.jsonl), each part fitting."""
    text = template.replace("{sync}", sync) if template else f".omnisync/rejects-{sync}.jsonl"
    path = Path(text)
    fitted = Path(*(fit(part) for part in path.parts))
    return fitted if fitted.is_absolute() else directory / fitted


def fit(name: str, limit: int = NAME_MAX) -> str:
    """`name`, or its beginning plus a hash of it when longer than `limit` bytes (suffix kept)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = name, ""
    tail = f"-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}" + (
        f".{suffix}" if suffix else ""
    )
    room = limit - len(tail.encode("utf-8"))
    head = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + tail
