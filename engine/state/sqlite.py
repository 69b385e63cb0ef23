"""The default state backend: one SQLite file (WAL), `.omnisync/state.db` beside the spec.

Saves are a single-row upsert in autocommit mode with synchronous=NORMAL: in WAL that survives a
process crash (SIGKILL, OOM) and costs tens of microseconds, so the engine can save a few times a
second without slowing delivery. A power loss may lose the last saves; the run then resumes a
little earlier, which at-least-once delivery tolerates.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engine.errors import OmnisyncError
from engine.records import Position
from engine.state.base import StateContext, StoredPosition
from engine.state.codec import PositionCodecError, decode_position, encode_position

DEFAULT_PATH = ".omnisync/state.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    sync_key    TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    location    TEXT NOT NULL
)
"""


class SqliteStateStore:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": f"SQLite file; relative to the spec (default {DEFAULT_PATH})",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "seconds to wait for another run holding the file (default 10)",
            },
        },
    }

    def __init__(self, config: Mapping[str, Any], context: StateContext) -> None:
        path = Path(str(config.get("path") or DEFAULT_PATH))
        self.path = path if path.is_absolute() else context.spec_dir / path
        self.timeout = float(config.get("timeout", 10.0))
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        """Opened on first use, so `state show` on a spec never run creates nothing."""
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise OmnisyncError(f"state store {self.path}: {exc}") from None
            self._db = db
        return self._db

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, args)
        except sqlite3.Error as exc:
            raise OmnisyncError(f"state store {self.path}: {exc}") from None

    def load(self, sync_key: str) -> StoredPosition | None:
        if self._db is None and not self.path.exists():
            return None
        rows = self._execute(
            "SELECT sync_key, position, fingerprint, saved_at, location"
            " FROM positions WHERE sync_key = ?",
            (sync_key,),
        ).fetchall()
        return _stored(rows[0]) if rows else None

    def save(self, sync_key: str, position: Position, fingerprint: str, where: str) -> None:
        text = encode_position(position)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        self._execute(
            "INSERT INTO positions (sync_key, position, fingerprint, saved_at, location)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(sync_key) DO UPDATE SET"
            " position = excluded.position, fingerprint = excluded.fingerprint,"
            " saved_at = excluded.saved_at, location = excluded.location",
            (sync_key, text, fingerprint, now, where),
        )

    def clear(self, sync_key: str) -> bool:
        if self._db is None and not self.path.exists():
            return False
        return self._execute("DELETE FROM positions WHERE sync_key = ?", (sync_key,)).rowcount > 0

    def entries(self, prefix: str = "") -> list[StoredPosition]:
        if self._db is None and not self.path.exists():
            return []
        rows = self._execute(
            "SELECT sync_key, position, fingerprint, saved_at, location FROM positions"
            " WHERE substr(sync_key, 1, ?) = ? ORDER BY sync_key",
            (len(prefix), prefix),
        ).fetchall()
        return [_stored(row) for row in rows]

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _stored(row: tuple[Any, ...]) -> StoredPosition:
    key, text, fingerprint, saved_at, where = row
    try:
        position: Position | None = decode_position(text)
    except PositionCodecError:
        position = None
    return StoredPosition(key, position, fingerprint, dt.datetime.fromisoformat(saved_at), where)
