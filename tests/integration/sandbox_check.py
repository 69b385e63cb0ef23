"""The sandbox's own check of a request body, in process (no HTTP): for fast property tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from connectors.omnisegment.sandbox.routes import ROUTES


def sandbox_problem(endpoint: Any, body: dict[str, Any]) -> tuple[str, str] | None:
    """(ERR_TYPE_KEY, message) the sandbox would answer with a 400, or None if it would accept."""
    path = urlsplit(endpoint._url).path
    (check,) = [route for route in ROUTES if route.path == path]
    return check.validate(body)
