"""What an OmniSegment endpoint is, as the catalogue (catalogue.py) describes each: its routes,
their auth, cap, rate and envelope options, the record's key and whose record it is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Auth = Literal["body", "header", "beacon"]
"""body: `tid`+`api_key` in the JSON body; header: `X-OmniSegment-Api-Key` with `tid` in the query;
beacon: `X-OmniSegment-Api-Key` with `tid` in the JSON body (event tracking)."""

Identity = tuple[tuple[str, ...], ...]
"""Alternative groups of fields that identify the member of a record: one group must be present."""

SOURCE_PAIR = ("source_id", "source_system")
MEMBER_IDENTITY: Identity = (("member_sn",), SOURCE_PAIR)
MEMBER_FIELDS = ("member_sn", *SOURCE_PAIR)  # name a member whatever the merge key
IDENTIFIER_FIELDS = ("line_id", "phone", "email", "messenger_psid")


@dataclass(frozen=True)
class Route:
    """One URL of an endpoint: how records travel in its body, its cap, rate and options."""

    path: str
    auth: Auth
    cap: int  # records per request; 1 for single-record routes
    data_key: str | None = "data"  # body key holding the record(s); None: the record is the body
    as_list: bool = False  # the records travel as a list (even a list of one)
    rate_limit: float = 10.0  # documented requests per second
    options: Mapping[str, Any] = field(default_factory=dict)  # JSON Schema of the envelope options
    defaults: Mapping[str, Any] = field(default_factory=dict)  # options sent when the spec has none
    hosts: Mapping[str, str] = field(default_factory=dict)  # environment -> this route's own host
    other_paths: tuple[str, ...] = ()  # further paths the reference names for this route
    unsure: bool = False  # the reference is unsure of path or host: a sync may override them

    @property
    def option_names(self) -> frozenset[str]:
        """The options this route accepts in its envelope."""
        return frozenset(self.options.get("properties", {}))


@dataclass(frozen=True)
class EndpointDef:
    """One kind of record OmniSegment imports: its schema, key, routes and whose it is."""

    name: str
    schema: str  # file under schemas/
    key_fields: tuple[str, ...]  # the record key, for idempotency, order and reports
    routes: Mapping[str, Route]  # by mode: "single", "batch", and "list" for gift vouchers
    identity: Callable[[Mapping[str, Any]], Identity] | None = None  # by envelope options
    personal_fields: frozenset[str] = frozenset()
    plain_value_option: str | None = None  # blacklist: data holds record[options[this]] only
    plain_value_field: str | None = None  # workflow_trigger: the list holds record[this] only
    # workflow_trigger: the option naming what its events are counted in (the node); records of
    # such an endpoint are events, sent at most once per window (docs/triggers.md)
    event_option: str | None = None
    joined_key: bool = False  # the key is all key_fields joined by ':' (not the first present)
    clears: bool = False  # '', null and "none" clear a field: never one that identifies the record
    doc: str = ""  # reference page

    @property
    def single(self) -> Route | None:
        """The one-record route, if the endpoint has one."""
        return self.routes.get("single")

    @property
    def batch(self) -> Route | None:
        """The many-records route, if the endpoint has one."""
        return self.routes.get("batch")

    @property
    def default_mode(self) -> str:
        """The route used when the spec names none: batch where there is one."""
        return "batch" if "batch" in self.routes else next(iter(self.routes))

    @property
    def option_names(self) -> frozenset[str]:
        """Options any route accepts, to tell an unknown option from another route's."""
        return frozenset().union(*(route.option_names for route in self.routes.values()))
