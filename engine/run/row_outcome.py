"""What happens to one row: send, filter or reject. `omnisync run`, `plan` and `test` all ask here.

Built once per sync as a closure: on the hot path a row costs one call, and a row to send returns
its payload itself, so deciding allocates nothing beyond the record the mapping builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.contracts import Endpoint
from engine.delivery.encoding import encoding_problem
from engine.rows import Rejection, Row
from engine.transforms.mapping import CompiledMapping, FieldError


class Filtered:
    """Dropped on purpose by the sync's filter or de-duplication: `reason` says which."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


Decision = dict[str, Any] | Filtered | Rejection
"""A payload (a dict) is sent as it is; a Rejection goes to the reject file."""

Decide = Callable[[Row], Decision]


def compile_decide(mapping: CompiledMapping, endpoint: Endpoint, encode: bool = False) -> Decide:
    """Unreadable -> rejected; mapping fails -> rejected (with the row); filtered or duplicate ->
    Filtered; the endpoint's check fails -> rejected (with the record); else the record.

    `encode`: also reject a record the endpoint cannot encode (an integer past 64 bits), as a real
    run does when its batch fails to encode. A real run leaves that to delivery (one encoding per
    batch); a dry run, `plan` and `test` send nothing, so they ask here."""
    apply = mapping.apply
    check = _encoding_checked(endpoint) if encode else endpoint.check
    filtered: dict[str, Filtered] = {}  # one per reason: a dropped row allocates nothing

    def decide(row: Row) -> Decision:
        values = row.values
        if row.error is not None or values is None:
            return Rejection(row.position, row.error or "unreadable row")
        try:
            payload = apply(values)
        except FieldError as exc:
            return Rejection(row.position, exc.reason, exc.field, values=values)
        if payload is None:
            reason = mapping.last_drop_reason
            known = filtered.get(reason)
            if known is None:
                known = filtered[reason] = Filtered(reason)
            return known
        problem = check(payload)
        if problem is not None:
            return Rejection(row.position, problem[1], problem[0], payload)
        return payload

    return decide


def _encoding_checked(endpoint: Endpoint) -> Callable[[Any], tuple[str | None, str] | None]:
    def check(payload: Any) -> tuple[str | None, str] | None:
        problem = endpoint.check(payload)
        if problem is None and (reason := encoding_problem(endpoint, payload)) is not None:
            return None, reason
        return problem

    return check
