"""The OmniSegment destination plugin: connection block, sync block checks, endpoint factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import click

from connectors.omnisegment._spec_checks import check_destination, route_for
from connectors.omnisegment.cli import sandbox as sandbox_command
from connectors.omnisegment.endpoint import OmniSegmentEndpoint
from connectors.omnisegment.endpoints import CATALOGUE, ENVIRONMENTS
from connectors.omnisegment.sandbox import SANDBOX_API_KEY, SANDBOX_TID, SandboxServer
from engine.errors import OmnisyncError, SpecIssue


class OmniSegmentDestination:
    cli_commands: ClassVar[tuple[click.Command, ...]] = (sandbox_command,)
    connection_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "description": "OmniSegment account. Secrets come from the environment: ${OMNISEGMENT_API_KEY}.",
        "properties": {
            "environment": {"enum": sorted(ENVIRONMENTS)},
            "base_url": {"type": "string", "pattern": "^https?://"},
            "tid": {"type": "string", "minLength": 1},
            "api_key": {"type": "string", "minLength": 1, "writeOnly": True},
            "utc_offset": {"type": "string", "pattern": "^[+-][0-9]{2}:[0-9]{2}$"},
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["environment"]}, {"required": ["base_url"]}],
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
        },
        "additionalProperties": False,
    }

    def __init__(self, connection: Mapping[str, Any]) -> None:
        self.connection = connection
        self.environment = connection.get("environment")
        self._sandbox: SandboxServer | None = None
        self.base_url: str | None = connection.get("base_url")

    # -- spec checks -------------------------------------------------------------------------

    def check_sync(self, block: Mapping[str, Any], mapped: frozenset[str]) -> list[SpecIssue]:
        return check_destination(CATALOGUE[block["endpoint"]], block, mapped)

    def check_connection(self) -> list[SpecIssue]:
        env = self.environment
        undocumented = env not in (None, "sandbox") and ENVIRONMENTS[env][0] is None
        if self.base_url is None and undocumented:
            message = f"no host is documented for '{env}': set omnisegment.base_url"
            return [SpecIssue(("environment",), message)]
        if env != "sandbox" and not (self.connection.get("tid") and self.connection.get("api_key")):
            message = "tid and api_key are required (e.g. api_key: ${OMNISEGMENT_API_KEY})"
            return [SpecIssue((), message)]
        return []

    # -- running -----------------------------------------------------------------------------

    def default_utc_offset(self) -> str:
        offset = self.connection.get("utc_offset")
        return (
            str(offset)
            if offset
            else ENVIRONMENTS.get(self.environment or "tw", ENVIRONMENTS["tw"])[1]
        )

    async def __aenter__(self) -> OmniSegmentDestination:
        if self.base_url is None and self.environment == "sandbox":
            self._sandbox = SandboxServer(
                tid=self.connection.get("tid", SANDBOX_TID),
                api_key=self.connection.get("api_key", SANDBOX_API_KEY),
            )
            self.base_url = await self._sandbox.start()
        elif self.base_url is None:
            self.base_url = ENVIRONMENTS[self.environment or "tw"][0]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            await self._sandbox.stop()
            self._sandbox = None

    def endpoint(self, block: Mapping[str, Any]) -> OmniSegmentEndpoint:
        if self.base_url is None:
            raise OmnisyncError("the OmniSegment destination is not open")
        definition = CATALOGUE[block["endpoint"]]
        route = route_for(definition, block)
        tid = self.connection.get("tid", SANDBOX_TID if self._sandbox else "")
        api_key = self.connection.get("api_key", SANDBOX_API_KEY if self._sandbox else "")
        return OmniSegmentEndpoint(
            definition, route, self.base_url.rstrip("/"), tid, api_key, block.get("options", {})
        )
