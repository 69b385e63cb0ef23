"""The OmniSegment destination plugin: connection block, sync block checks, endpoint factory.

The sync block checks run before any row is read: mode, options and mapped fields against the
catalogue, each problem as a SpecIssue pointing into the block.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import click

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.credentials import KeyFileError, read_key_file
from connectors.omnisegment.endpoint_def import SOURCE_PAIR, EndpointDef, Route
from connectors.omnisegment.hosts import (
    ENVIRONMENT_NAMES,
    ENVIRONMENTS,
    override_issues,
    route_base,
    utc_offset,
)
from connectors.omnisegment.init_command import init as init_command
from connectors.omnisegment.record_schema import data_schema, required_fields
from connectors.omnisegment.sandbox import SANDBOX_API_KEY, SANDBOX_TID
from connectors.omnisegment.sandbox.cli import sandbox as sandbox_command
from engine import logging as omnilog
from engine.errors import OmnisyncError, SpecIssue
from engine.fastcheck import is_valid
from engine.suggest import suggest

if TYPE_CHECKING:
    from connectors.omnisegment.endpoint import OmniSegmentEndpoint
    from connectors.omnisegment.sandbox.server import SandboxServer


class OmniSegmentDestination:
    """Delivers syncs to OmniSegment's import APIs, or to the in-process sandbox."""

    cli_commands: ClassVar[tuple[click.Command, ...]] = (sandbox_command, init_command)
    connection_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "description": "OmniSegment account. The key comes from the environment "
        "(api_key: ${OMNISEGMENT_API_KEY}) or from a file (api_key_file: /run/secrets/omnisegment).",
        "properties": {
            "environment": {
                "enum": sorted(ENVIRONMENTS),
                "description": ENVIRONMENT_NAMES,
            },
            "base_url": {"type": "string", "pattern": "^https?://"},
            "tid": {"type": "string", "minLength": 1},
            "api_key": {"type": "string", "minLength": 1, "writeOnly": True},
            "api_key_file": {
                "type": "string",
                "minLength": 1,
                "description": "A file holding the api_key (a mounted secret), instead of api_key",
            },
            "utc_offset": {
                "type": "string",
                "pattern": "^[+-][0-9]{2}:[0-9]{2}$",
                "description": "the offset given to datetimes without one, as +HH:MM (+08:00)",
            },
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["environment"]}, {"required": ["base_url"]}],
        "not": {
            "required": ["api_key", "api_key_file"],
            "description": "give api_key or api_key_file, not both",
        },
    }
    sync_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["endpoint"],
        "properties": {
            "type": {"const": "omnisegment"},
            "endpoint": {"enum": sorted(CATALOGUE)},
            "mode": {
                "enum": ["batch", "single", "list"],
                "description": "Route; default batch where the endpoint has one. "
                "list: gift vouchers as a list on /api/import-gift-voucher/.",
            },
            "options": {"type": "object"},
            "custom_fields": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "description": "Mapped fields the endpoint does not document, sent as custom "
                "fields; any other undocumented field is refused (a typo is not a custom field).",
            },
            "path": {
                "type": "string",
                "description": "Override the route's path (only where the reference is unsure).",
            },
            "host": {
                "type": "string",
                "description": "Override the route's host (only where the reference is unsure).",
            },
        },
        "additionalProperties": False,
    }

    def __init__(self, connection: Mapping[str, Any]) -> None:
        self.connection = connection
        self.environment = connection.get("environment")
        self._sandbox: SandboxServer | None = None
        self.base_url: str | None = connection.get("base_url")
        self.api_key: str | None = connection.get("api_key")
        self._key_problem: str | None = None
        if connection.get("api_key_file"):
            try:
                self.api_key = read_key_file(str(connection["api_key_file"]))
            except KeyFileError as exc:
                self._key_problem = str(exc)

    # -- spec checks -------------------------------------------------------------------------

    def check_sync(self, block: Mapping[str, Any], mapped: frozenset[str]) -> list[SpecIssue]:
        """Problems of a sync's destination block, given the fields its mapping produces."""
        return check_destination(CATALOGUE[block["endpoint"]], block, mapped)

    def check_connection(self) -> list[SpecIssue]:
        """Problems of the connection block that its schema cannot say (host, credentials)."""
        env = self.environment
        if self._key_problem is not None:
            return [SpecIssue(("api_key_file",), self._key_problem)]
        if env != "sandbox" and not (self.connection.get("tid") and self.api_key):
            message = (
                "tid and api_key are required (api_key: ${OMNISEGMENT_API_KEY}, or api_key_file:)"
            )
            return [SpecIssue((), message)]
        return []

    @classmethod
    def sync_rules(cls) -> list[dict[str, Any]]:
        """Per endpoint: its options and mapping keys, with the reference's descriptions."""
        from connectors.omnisegment.sync_rules import sync_rules  # for the editor, on demand

        return sync_rules()

    def batch_cap(self, block: Mapping[str, Any]) -> tuple[int, str]:
        """Records one request of this block's route carries (50 on purchase's batch route)."""
        definition = CATALOGUE[block["endpoint"]]
        route = route_for(definition, block)
        mode = next(m for m, r in definition.routes.items() if r is route)
        return route.cap, f"{definition.name}'s {mode} route ({route.path})"

    # -- running -----------------------------------------------------------------------------

    def default_utc_offset(self) -> str:
        """The offset given to naive datetimes: the block's utc_offset, else the environment's
        (named, or the one whose host base_url names)."""
        return utc_offset(self.connection)

    def account(self) -> str | None:
        """The tid: part of the state's identity (docs/state.md), so two accounts never share a
        position. Not a secret."""
        tid = self.connection.get("tid")
        if tid is None and self.environment == "sandbox" and not self.connection.get("base_url"):
            return SANDBOX_TID
        return str(tid) if tid else None

    def fires_events(self, block: Mapping[str, Any]) -> bool:
        """workflow_trigger starts a workflow for each member: an event, not a record."""
        return CATALOGUE[block["endpoint"]].event_option is not None

    def forgets_records(self) -> bool:
        """The embedded sandbox starts empty each run: change detection must not skip records."""
        return self._sandbox is not None

    async def __aenter__(self) -> OmniSegmentDestination:
        if self.base_url is None and self.environment == "sandbox":
            # here, not at the top: only a sandbox run needs aiohttp's server part
            from connectors.omnisegment.sandbox.server import SandboxServer

            self._sandbox = SandboxServer(
                tid=self.connection.get("tid", SANDBOX_TID),
                api_key=self.api_key or SANDBOX_API_KEY,
            )
            self.base_url = await self._sandbox.start()
            omnilog.get_logger("omnisync.sandbox").info(
                "sandbox_started",
                url=self.base_url,
                tid=self.connection.get("tid", SANDBOX_TID),
                records=f"{self.base_url}/_sandbox/records/<endpoint>",
                stats=f"{self.base_url}/_sandbox/stats",
                note="the embedded sandbox stops with the run; `omnisync sandbox` keeps one up",
            )
        elif self.base_url is None:
            self.base_url = ENVIRONMENTS[self.environment or "tw"][0]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            await self._sandbox.stop()
            self._sandbox = None

    def endpoint(self, block: Mapping[str, Any]) -> OmniSegmentEndpoint:
        """The endpoint a sync delivers to, on the route its block picks."""
        # here, not at the top: its record checks load jsonschema, which only a run needs
        from connectors.omnisegment.endpoint import OmniSegmentEndpoint

        if self.base_url is None:
            raise OmnisyncError("the OmniSegment destination is not open")
        definition = CATALOGUE[block["endpoint"]]
        route = route_for(definition, block)
        tid = self.connection.get("tid", SANDBOX_TID if self._sandbox else "")
        api_key = self.api_key or (SANDBOX_API_KEY if self._sandbox else "")
        base = route_base(self.connection, self.base_url, route, block)
        options = block.get("options", {})
        return OmniSegmentEndpoint(
            definition, route, base, tid, api_key, options, block.get("path")
        )


# -- sync block checks -------------------------------------------------------------------------


def choose_mode(definition: EndpointDef, options: Mapping[str, Any]) -> str:
    """The default route (batch where there is one), unless only another route takes the options."""
    modes = [
        definition.default_mode,
        *(m for m in definition.routes if m != definition.default_mode),
    ]
    for mode in modes:
        if is_valid(definition.routes[mode].options, dict(options)):
            return mode
    return definition.default_mode


def check_destination(
    definition: EndpointDef, block: Mapping[str, Any], mapped: frozenset[str]
) -> list[SpecIssue]:
    """The block's mode, options and mapped fields against the endpoint, before any row is read."""
    options: Mapping[str, Any] = block.get("options") or {}
    mode = block.get("mode")
    if mode is not None and mode not in definition.routes:
        known = ", ".join(sorted(definition.routes))
        return [SpecIssue(("mode",), f"{definition.name} has no {mode} route; it has: {known}")]
    issues = _unknown_options(definition, options)
    if issues:
        return issues
    mode = mode or choose_mode(definition, options)
    issues.extend(override_issues(definition.name, definition.routes[mode], block))
    issues.extend(_option_issues(definition, mode, options))
    custom = frozenset(block.get("custom_fields") or ())
    issues.extend(
        _mapping_issues(definition, options, mapped, check_identity=not issues, custom=custom)
    )
    return issues


def _unknown_options(definition: EndpointDef, options: Mapping[str, Any]) -> list[SpecIssue]:
    known = sorted(definition.option_names)
    return [
        SpecIssue(
            ("options", key),
            f"'{key}' is not an option of {definition.name}{suggest(key, known)}; "
            f"known: {', '.join(known) or 'none'}",
            at_key=True,
        )
        for key in options
        if key not in definition.option_names
    ]


def _option_issues(
    definition: EndpointDef, mode: str, options: Mapping[str, Any]
) -> list[SpecIssue]:
    route = definition.routes[mode]
    if is_valid(route.options, dict(options)):
        return []
    from jsonschema import Draft202012Validator  # to explain what is wrong

    issues = []
    for error in Draft202012Validator(route.options).iter_errors(dict(options)):
        path = ("options", *error.absolute_path)
        if error.validator == "required":
            missing = [r for r in error.validator_value if r not in error.instance]
            message = f"{definition.name} needs the option '{missing[0]}'"
            issues.append(SpecIssue(("options",), message))
        elif error.validator == "additionalProperties":
            for key in sorted(set(options) - route.option_names):
                elsewhere = _modes_accepting(definition, key, options[key])
                issues.append(
                    SpecIssue(("options", key), _only_on(definition, key, elsewhere), at_key=True)
                )
        elif len(path) == 2 and (
            elsewhere := _modes_accepting(definition, path[1], error.instance)
        ):
            issues.append(SpecIssue(path, _only_on(definition, path[1], elsewhere, error.instance)))
        elif error.validator == "enum":
            choices = ", ".join(map(repr, error.validator_value))
            issues.append(SpecIssue(path, f"{error.instance!r} is not one of {choices}"))
        else:
            issues.append(SpecIssue(path, error.message))
    return issues


def _modes_accepting(definition: EndpointDef, key: Any, value: Any) -> list[str]:
    return [
        mode
        for mode, route in definition.routes.items()
        if key in route.option_names and is_valid(route.options["properties"][key], value)
    ]


def _only_on(definition: EndpointDef, key: Any, modes: list[str], value: Any = None) -> str:
    what = f"{key}: {value!r}" if value is not None else f"'{key}'"
    if not modes:
        return f"{what} is not accepted by the chosen route of {definition.name}"
    routes = " or ".join(f"the {m} route ({definition.routes[m].path})" for m in modes)
    return f"{what} is only accepted by {routes}; set mode: {modes[0]} or leave mode out"


def _mapping_issues(
    definition: EndpointDef,
    options: Mapping[str, Any],
    mapped: frozenset[str],
    check_identity: bool,
    custom: frozenset[str] = frozenset(),
) -> list[SpecIssue]:
    """Required fields left out of the mapping; the member key only when the options are sound;
    undocumented fields not declared as custom fields."""
    issues = []
    if options.get("merge_key") == "source_id" and not set(SOURCE_PAIR) <= mapped:
        missing = " and ".join(f for f in SOURCE_PAIR if f not in mapped)
        issues.append(
            SpecIssue(
                ("options", "merge_key"),
                f"merge_key source_id needs source_id and source_system in the mapping "
                f"({missing} not mapped)",
            )
        )
        check_identity = False
    try:
        required, identity = required_fields(definition, options)
    except (KeyError, TypeError):  # options already reported as invalid
        return issues
    schema = data_schema(definition.schema)
    known = sorted(schema.get("properties", {}))
    closed = schema.get("additionalProperties") is False
    misspelt = _misspellings([n for n in required if n not in mapped], mapped, known)
    for name in required:
        if name not in mapped and name not in misspelt.values():
            message = f"{definition.name} requires '{name}': map it (it is not in the mapping)"
            issues.append(SpecIssue(("endpoint",), message))
    if check_identity and identity and not any(set(group) <= mapped for group in identity):
        wanted = " or ".join(" with ".join(group) for group in identity)
        message = f"{definition.name} requires {wanted} in the mapping"
        if "identifier_field" in options:
            message += f" (identifier_field is {options['identifier_field']})"
        issues.append(SpecIssue(("endpoint",), message))
    for name in sorted(misspelt):
        message = (
            f"'{name}' looks like a misspelling of '{misspelt[name]}', which {definition.name} "
            f"requires: rename the mapping key to '{misspelt[name]}'"
        )
        issues.append(SpecIssue(("mapping", name), message, at_key=True, in_sync=True))
    for name in sorted(mapped - set(known) - set(misspelt) - (set() if closed else custom)):
        # an open record takes custom fields, but only declared ones: a typo is not a field
        hint = suggest(name, known)
        message = (
            f"'{name}' is not a field of {definition.name}{hint}"
            if closed
            else f"'{name}' is not a documented {definition.name} field{hint}; "
            "if it is a custom field, list it in custom_fields"
        )
        issues.append(SpecIssue(("mapping", name), message, at_key=True, in_sync=True))
    if custom and closed:
        issues.append(SpecIssue(("custom_fields",), f"{definition.name} takes no custom fields"))
    return issues


def _misspellings(missing: list[str], mapped: frozenset[str], known: list[str]) -> dict[str, str]:
    """Mapped names that are not fields but near misses of a missing required one (valid_until)."""
    found = {}
    for name in sorted(mapped - set(known)):
        match = difflib.get_close_matches(name, missing, n=1, cutoff=0.75)
        if match:
            found[name] = match[0]
    return found


def route_for(definition: EndpointDef, block: Mapping[str, Any]) -> Route:
    """The route a sync's block picks: its `mode`, else the one `choose_mode` finds."""
    mode = block.get("mode") or choose_mode(definition, block.get("options") or {})
    return definition.routes[mode]
