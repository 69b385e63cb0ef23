"""The plugin contract: everything a plugin implements or receives, in one place.

Sources yield rows with orderable positions; destinations turn batches of payloads into HTTP requests
and judge the answers; transforms and state backends have contracts of their own (engine.transforms.base,
engine.state.base), re-exported here. The engine owns everything in between (mapping, batching, rate,
retries, bisection, checkpoints, reports), so a connector stays small. Built-in connectors satisfy
exactly these, through the same entry points; docs/plugins.md explains the contract.

A protocol lists only what every plugin of its kind has. What some plugins offer besides is a
protocol of its own (`HasCommands`, `EstimatesTotal`), checked with isinstance: a plugin offers it
by having the member, and mypy still matches the plugins that do not against their kind's protocol.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import click

from engine.errors import OmnisyncError, SpecIssue
from engine.rows import Position, Row
from engine.state.base import StateContext, StateStore, StoredPosition
from engine.transforms.base import (
    OMIT,
    Transform,
    TransformArgsError,
    TransformContext,
    TransformDef,
    TransformError,
)

__all__ = [
    "OMIT",
    "Answer",
    "Destination",
    "Endpoint",
    "EstimatesTotal",
    "ForgetsRecords",
    "HasCommands",
    "HttpRequest",
    "NamesAccount",
    "OmnisyncError",
    "Position",
    "Row",
    "Source",
    "SourceContext",
    "SpecIssue",
    "StateContext",
    "StateStore",
    "StoredPosition",
    "Transform",
    "TransformArgsError",
    "TransformContext",
    "TransformDef",
    "TransformError",
    "Verdict",
    "account_of",
    "estimated_total",
    "keeps_records",
    "plugin_commands",
    "source_cursors",
    "supports_lookback",
]


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
    CONFIG = "config"  # no such route (404/405): a wrong base_url or path, stop the sync
    THROTTLED = "throttled"  # 429: back off and slow the limiter
    UNAVAILABLE = "unavailable"  # 502/503/504: the vendor's retry policy
    FAILED = "failed"  # anything else: retried a little, then the batch fails


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    message: str = ""
    retry_after: float | None = None
    reason_class: str | None = None  # the complaint without values, indexes or field names


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


@runtime_checkable
class EstimatesTotal(Protocol):
    """Optional for a source: how many rows a full read yields, for the progress line's ETA."""

    def estimate_total(self) -> int | None:
        """None when it cannot tell cheaply."""
        ...


@runtime_checkable
class HasCommands(Protocol):
    """Optional for a source or destination class: click commands added to `omnisync`."""

    @property
    def cli_commands(self) -> Sequence[click.Command]: ...  # a class attribute in a plugin


@runtime_checkable
class ForgetsRecords(Protocol):
    """Optional for a destination: whether what it received is gone after the run (an embedded
    sandbox). Change detection is then off: a digest would claim records it no longer has."""

    def forgets_records(self) -> bool: ...


@runtime_checkable
class NamesAccount(Protocol):
    """Optional for a destination: which account receives the records (an id such as a tenant
    id, never a secret). It is part of the state's identity, so one spec run for two accounts keeps
    two incremental marks instead of sharing one."""

    def account(self) -> str | None: ...


def account_of(destination: Destination) -> str | None:
    """The destination's account, or None when it names none."""
    return destination.account() if isinstance(destination, NamesAccount) else None


def keeps_records(destination: Destination) -> bool:
    """False for a destination that forgets what it received between runs."""
    return not (isinstance(destination, ForgetsRecords) and destination.forgets_records())


def plugin_commands(plugin: type[Source] | type[Destination]) -> Sequence[click.Command]:
    """The commands a source or destination brings (the OmniSegment sandbox); most bring none."""
    return plugin.cli_commands if isinstance(plugin, HasCommands) else ()


def estimated_total(source: Source) -> int | None:
    """The source's estimate of its rows, or None when it offers none."""
    return source.estimate_total() if isinstance(source, EstimatesTotal) else None


def source_cursors(source: object) -> frozenset[str] | None:
    """The cursor names a source (class or instance) understands, e.g. files' `modified`; None when
    any of its columns may be the cursor (SQL)."""
    cursors = getattr(source, "cursors", None)
    return None if cursors is None else frozenset(cursors)


def supports_lookback(source: object) -> bool:
    """True for a source (class or instance) that can read again rows a little older than its mark."""
    return bool(getattr(source, "supports_lookback", False))
