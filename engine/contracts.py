"""What a plugin implements. Built-in connectors satisfy exactly these, through the same entry points.

Sources yield rows with orderable positions; destinations turn batches of payloads into HTTP requests
and judge the answers. The engine owns everything in between (mapping, batching, rate, retries,
bisection, checkpoints, reports), so a connector stays small.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from engine.errors import SpecIssue
from engine.records import Position, Row


@dataclass(frozen=True)
class SourceContext:
    """What a source needs to know beyond its own block."""

    spec_dir: Path
    sync_name: str
    cursor: str | None = None  # incremental cursor column/field, when the sync has one
    lookback: float | None = None  # seconds to read again behind the mark (late rows), when set


@runtime_checkable
class Source(Protocol):
    """Reads rows in a stable order; `read(resume)` starts strictly after `resume`."""

    config_schema: ClassVar[dict[str, Any]]

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None: ...

    def read(self, resume: Position | None) -> AsyncIterator[Row]: ...

    def locate(self, position: Position) -> str:
        """A human pointer to a row, e.g. 'members.csv:12'."""
        ...


class Verdict(enum.Enum):
    """What an answer means; how long to wait is the retry policy's business."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the request's records are at fault (400): bisect
    AUTH = "auth"  # credentials refused (403): stop the sync
    THROTTLED = "throttled"  # 429: back off and slow the limiter
    UNAVAILABLE = "unavailable"  # 502/503/504: the vendor's retry policy
    FAILED = "failed"  # anything else: retried a little, then the batch fails


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    message: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Endpoint(Protocol):
    """One destination endpoint as configured for one sync."""

    name: str
    limiter_key: str  # syncs whose endpoints share this key share one rate limiter
    batch_size: int  # records per request; 1 for single-record endpoints
    rate_limit: float  # documented requests per second
    personal_fields: frozenset[str]  # masked in reject files unless the run asks otherwise

    def check(self, payload: Any) -> tuple[str | None, str] | None:
        """(field, reason) when the payload would be refused by the API, else None."""
        ...

    def key(self, payload: Any) -> str | None:
        """The record's idempotency key (member_sn, transaction_id, ...), for order and reports."""
        ...

    def build_request(self, payloads: list[Any]) -> HttpRequest: ...

    def judge(self, status: int, body: bytes, headers: Mapping[str, str]) -> Answer: ...


class Destination(Protocol):
    """A service to deliver to. Its connection block sits at the spec's top level under its name."""

    connection_schema: ClassVar[dict[str, Any]]
    sync_schema: ClassVar[dict[str, Any]]

    def __init__(self, connection: Mapping[str, Any]) -> None: ...

    async def __aenter__(self) -> Destination: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def default_utc_offset(self) -> str:
        """Offset given to naive datetimes (the account's local time)."""
        ...

    def check_connection(self) -> list[SpecIssue]:
        """Semantic checks of the connection block; paths are relative to it."""
        ...

    def check_sync(self, block: Mapping[str, Any], mapped: frozenset[str]) -> list[SpecIssue]:
        """Semantic checks of a sync's destination block against what the mapping produces.

        Paths are relative to the block."""
        ...

    def endpoint(self, block: Mapping[str, Any]) -> Endpoint: ...
