"""Optional contracts of event endpoints: a resend starts a workflow again, so it is not harmless.

Re-exported by engine.contracts (import from there); apart so the core contracts stay short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # engine.contracts imports this module: only the types, no import at run time
    from engine.contracts import Destination, Endpoint


@runtime_checkable
class FiresEvents(Protocol):
    """Optional for an endpoint: what it receives are events (start a workflow for a member), not
    records upserted by key. A resend is then not harmless: the engine sends each key at most once
    per the sync's `once_per` window for the `event_scope` (say, one workflow node), remembers
    each send in the state store before it leaves, and never resends one whose outcome is
    unknown unless told to (docs/triggers.md). Change detection does not apply."""

    @property
    def event_scope(self) -> str: ...


@runtime_checkable
class DeclaresEvents(Protocol):
    """Optional for a destination: whether a sync block's endpoint fires events (FiresEvents),
    so `validate` asks for `once_per` there and refuses it elsewhere."""

    def fires_events(self, block: Mapping[str, Any]) -> bool: ...


def event_scope(endpoint: Endpoint) -> str | None:
    """The endpoint's event scope when it fires events; None for an endpoint of records."""
    return endpoint.event_scope if isinstance(endpoint, FiresEvents) else None


def fires_events(destination: Destination, block: Mapping[str, Any]) -> bool:
    return isinstance(destination, DeclaresEvents) and destination.fires_events(block)
