"""A batch the endpoint cannot encode is split, never failed: one bad value rejects one row.

An integer past 64 bits (from `cast: int`, an expression, a JSON Lines number) or any value the
endpoint's JSON encoder refuses would otherwise fail the whole batch and stop the sync. Encoding
is tried once per batch (no cost on the good path); when it fails the batch is halved like a 400
until the record that cannot be encoded stands alone and is rejected with the encoder's reason.
"""

from __future__ import annotations

from typing import Any

from engine.contracts import Endpoint, HttpRequest


class Unencodable(Exception):
    """The endpoint could not encode this batch; `reason` is the encoder's own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def build_request(endpoint: Endpoint, payloads: list[Any]) -> HttpRequest:
    try:
        return endpoint.build_request(payloads)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unencodable(f"cannot be encoded as JSON: {exc}") from None


def encoding_problem(endpoint: Endpoint, payload: Any) -> str | None:
    """The reason a real run would reject `payload` for (the encoder's), or None: for a dry run,
    `plan` and `test`, which send nothing and must judge each record as a real run does."""
    try:
        build_request(endpoint, [payload])
    except Unencodable as exc:
        return exc.reason
    return None
