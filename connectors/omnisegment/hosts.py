"""Where a route's requests go, and the account's offset for naive datetimes.

The environments are the base URLs of the vendor's common specification (v1.0.0); the offsets are
Note 2 of Import-Gift-Voucher ("TW: +08, JP: +09"). A route may name its own host per environment
(the questionnaire pages write `https://omnisegment.com`); a `base_url` in the connection takes
every route, and a sync may override the host or path of a route the reference is unsure of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.endpoint_def import Route
from engine.errors import SpecIssue

ENVIRONMENTS: dict[str, tuple[str | None, str]] = {
    # name: (documented base URL, account's UTC offset for naive datetimes)
    "tw": ("https://api.omnisegment.com", "+08:00"),
    "jp": ("https://jp.api.omnisegment.com", "+09:00"),
    "staging": ("https://staging.omnicloud.tech", "+08:00"),
    "sandbox": (None, "+08:00"),  # started in-process on 127.0.0.1
}

# the reference's names for them (Environments of the common specification)
ENVIRONMENT_NAMES = (
    "tw: Taiwan production, jp: Japan production, staging: the vendor's staging host, "
    "sandbox: the embedded sandbox on 127.0.0.1"
)


def environment_of(base_url: str) -> str | None:
    """The documented environment a base URL points at: its host, or a `jp.` host for Japan."""
    host = (urlsplit(base_url).hostname or "").lower()
    for name, (url, _offset) in ENVIRONMENTS.items():
        if url is not None and urlsplit(url).hostname == host:
            return name
    if host.startswith("jp.") and host.endswith(".omnisegment.com"):
        return "jp"
    return None


def utc_offset(connection: Mapping[str, Any]) -> str:
    """`utc_offset`, else the environment's, else that of the environment `base_url` names."""
    if connection.get("utc_offset"):
        return str(connection["utc_offset"])
    environment = connection.get("environment")
    if environment is None and connection.get("base_url"):
        environment = environment_of(str(connection["base_url"]))
    return ENVIRONMENTS.get(environment or "tw", ENVIRONMENTS["tw"])[1]


def route_base(
    connection: Mapping[str, Any], opened_url: str, route: Route, block: Mapping[str, Any]
) -> str:
    """Where a route's requests go: the sync's `host`, else the connection's `base_url` (every
    route: a proxy, the sandbox), else the route's own host for the environment, else the
    environment's base URL (`opened_url`)."""
    if block.get("host"):
        return str(block["host"]).rstrip("/")
    if connection.get("base_url"):
        return opened_url.rstrip("/")
    environment = connection.get("environment") or "tw"
    return route.hosts.get(environment, opened_url).rstrip("/")


_HOST = re.compile(r"https?://[^/\s?#]+/?")


def _unsure_endpoints() -> list[str]:
    """The endpoints with a route whose path or host the reference leaves unsure."""
    return sorted(
        name
        for name, definition in CATALOGUE.items()
        if any(route.unsure for route in definition.routes.values())
    )


def override_issues(name: str, route: Route, block: Mapping[str, Any]) -> list[SpecIssue]:
    """`path` and `host` only where the reference is unsure of them, and well formed."""
    issues = []
    for key in ("path", "host"):
        if key in block and not route.unsure:
            message = (
                f"the reference is sure of the route of {name}: its {key} cannot be overridden "
                f"(only routes the pages disagree on can: {', '.join(_unsure_endpoints())})"
            )
            issues.append(SpecIssue((key,), message, at_key=True))
    path, host = block.get("path"), block.get("host")
    if route.unsure and path is not None and not str(path).startswith("/"):
        issues.append(SpecIssue(("path",), f"{path!r}: expected a path starting with /"))
    if route.unsure and host is not None and not _HOST.fullmatch(str(host)):
        message = f"{host!r}: expected an https:// URL with a host and no path"
        issues.append(SpecIssue(("host",), message))
    return issues
