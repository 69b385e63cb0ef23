"""The plugin contract: everything a plugin implements or receives, importable from here.

Sources yield rows with orderable positions; destinations turn batches of payloads into HTTP requests
and judge the answers; transforms and state backends have contracts of their own (engine.transforms.base,
engine.state.base), re-exported here. The engine owns everything in between (mapping, batching, rate,
retries, bisection, checkpoints, reports), so a connector stays small. Built-in connectors satisfy
exactly these, through the same entry points; docs/plugins.md explains the contract.

A protocol lists only what every plugin of its kind has. What some plugins offer besides is a
protocol of its own (`EstimatesTotal`, `NamesCursors`, `LooksBack`, `LeavesNotes`, `NamesRoute`,
`ForgetsRecords`, `HasCommands`, `FiresEvents`, `DeclaresEvents`), checked with isinstance by the
function beside it: a plugin offers it by having the member, and mypy still matches the plugins
that do not against their kind's protocol. The larger optional features live in submodules
(events.py: `FiresEvents`, `DeclaresEvents`; in_source.py: `ScreensChanges`, `SourceScreen`,
`ScreenRequest`) and are re-exported here with the rest.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import click

from engine.contracts.events import DeclaresEvents, FiresEvents, event_scope, fires_events
from engine.contracts.in_source import ScreenRequest, ScreensChanges, SourceScreen, screens_changes
from engine.errors import OmnisyncError, SpecIssue
from engine.rows import Position, Row, ScreenedRow
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
    "ChecksResume",
    "DeclaresEvents",
    "Destination",
    "Endpoint",
    "EstimatesTotal",
    "FiresEvents",
    "ForgetsRecords",
    "HasCommands",
    "HttpRequest",
    "LeavesNotes",
    "LooksBack",
    "NamesAccount",
    "NamesCursors",
    "NamesRoute",
    "OmnisyncError",
    "Position",
    "Row",
    "ScreenRequest",
    "ScreenedRow",
    "ScreensChanges",
    "Source",
    "SourceContext",
    "SourceScreen",
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
    "endpoint_route",
    "estimated_total",
    "event_scope",
    "fires_events",
    "keeps_records",
    "plugin_commands",
    "resume_problem",
    "screens_changes",
    "source_cursors",
    "source_notes",
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


# -- Optional features: each a protocol, and the function the engine asks it through ---------


@runtime_checkable
class EstimatesTotal(Protocol):
    """Optional for a source: how many rows a full read yields, for the progress line's ETA."""

    def estimate_total(self) -> int | None:
        """None when it cannot tell cheaply."""
        ...


@runtime_checkable
class NamesCursors(Protocol):
    """Optional for a source class: the `incremental.cursor` names it understands (files:
    `modified`); `validate` refuses any other. None, or no such member: any column (SQL)."""

    @property
    def cursors(self) -> frozenset[str] | None: ...  # a class attribute in a plugin


@runtime_checkable
class LooksBack(Protocol):
    """Optional for a source class: True when it can start `context.lookback` seconds behind its
    mark (rows that arrive late); `validate` refuses `incremental.lookback` otherwise."""

    @property
    def supports_lookback(self) -> bool: ...  # a class attribute in a plugin


@runtime_checkable
class LeavesNotes(Protocol):
    """Optional for a source: what reading changed or found (header names trimmed of spaces, a
    file changed since the stored position), for the run report and the summary after the sync."""

    @property
    def notes(self) -> Sequence[str]: ...


@runtime_checkable
class NamesRoute(Protocol):
    """Optional for an endpoint: the URL path it sends to, named in the run report."""

    @property
    def route_path(self) -> str: ...


@runtime_checkable
class ChecksResume(Protocol):
    """Optional for a source: whether a stored position still points into the data it was counted
    in. A file replaced since (same name, other rows) must be read from its start; the engine asks
    before it resumes, so the run and `state show` both say so instead of "resumed after"."""

    def changed_since(self, position: Position) -> str | None:
        """Why the data `position` was counted in is not the same any more; None when it is."""
        ...


@runtime_checkable
class ChecksConfig(Protocol):
    """Optional for a source class: checks of its block beyond its schema that need the spec's
    folder (a file the block names), run by `validate` with the spec's other checks. Each issue's
    path is relative to the source's block, so the spec error names its file and line."""

    def config_issues(self, config: Mapping[str, Any], spec_dir: Path) -> list[SpecIssue]: ...


@runtime_checkable
class ReadsDbtModel(Protocol):
    """Optional for a source class: the dbt model a block reads (`sql: {dbt: {ref: ...}}`), or
    None; `omnisync run --after-dbt` runs a sync only when its model succeeded."""

    def dbt_model(self, config: Mapping[str, Any]) -> str | None: ...


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


def estimated_total(source: Source) -> int | None:
    """The source's estimate of its rows, or None when it offers none."""
    return source.estimate_total() if isinstance(source, EstimatesTotal) else None


def source_cursors(source: object) -> frozenset[str] | None:
    """The cursor names a source (class or instance) understands; None: any of its columns."""
    if not isinstance(source, NamesCursors) or source.cursors is None:
        return None
    return frozenset(source.cursors)


def supports_lookback(source: object) -> bool:
    """True for a source (class or instance) that can read again rows a little older than its mark."""
    return isinstance(source, LooksBack) and bool(source.supports_lookback)


def source_notes(source: Source) -> Sequence[str]:
    """What the source noted while it read, for the report; most sources note nothing."""
    return tuple(source.notes) if isinstance(source, LeavesNotes) else ()


def endpoint_route(endpoint: Endpoint) -> str | None:
    """The endpoint's URL path for the report, when it names one."""
    return endpoint.route_path if isinstance(endpoint, NamesRoute) else None


@runtime_checkable
class HasSyncRules(Protocol):
    """Optional for a destination class: JSON Schema `if/then` rules over a sync (its options and
    mapping keys per endpoint, say), for the editor schema and for reading a whole `${VAR}` as
    the type a value there wants. Built when asked for: `validate` of a valid spec never is."""

    @classmethod
    def sync_rules(cls) -> list[dict[str, Any]]: ...


def sync_rules(plugin: type[Destination]) -> list[dict[str, Any]]:
    """The destination's rules over a sync, or none."""
    return plugin.sync_rules() if isinstance(plugin, HasSyncRules) else []


@runtime_checkable
class CapsBatches(Protocol):
    """Optional for a destination: the most records one request of a sync's block may carry, and
    what imposes it (`purchase's batch route`), so a larger `batch_size` is refused at its line
    instead of being cut down in silence."""

    def batch_cap(self, block: Mapping[str, Any]) -> tuple[int, str]: ...


def batch_cap(destination: Destination, block: Mapping[str, Any]) -> tuple[int, str] | None:
    """The destination's cap for this block, or None when it declares none."""
    return destination.batch_cap(block) if isinstance(destination, CapsBatches) else None


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


def config_issues(source: object, config: Mapping[str, Any], spec_dir: Path) -> list[SpecIssue]:
    """The source class's own checks of its block; most sources have none beyond the schema."""
    return source.config_issues(config, spec_dir) if isinstance(source, ChecksConfig) else []


def dbt_model_of(source: object, config: Mapping[str, Any]) -> str | None:
    """The dbt model a source block reads, when the source class can read one."""
    return source.dbt_model(config) if isinstance(source, ReadsDbtModel) else None


def plugin_commands(plugin: type[Source] | type[Destination]) -> Sequence[click.Command]:
    """The commands a source or destination brings (the OmniSegment sandbox); most bring none."""
    return plugin.cli_commands if isinstance(plugin, HasCommands) else ()


def resume_problem(source: object, position: Position) -> str | None:
    """Why `position` no longer fits the source's data, when the source can tell; else None."""
    return source.changed_since(position) if isinstance(source, ChecksResume) else None
