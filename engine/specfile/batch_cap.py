"""`batch_size` against what the destination takes in one request.

The run sends at most the route's cap whatever `batch_size` says, so `batch_size: 500` on an
endpoint that takes 50 used to pass in silence, and the spec claimed something the run did not do.
It is refused at its line (or at `defaults.delivery.batch_size`, where it was inherited from).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.contracts import Destination, batch_cap
from engine.errors import SpecIssue


def batch_issues(
    data: Mapping[str, Any], index: int, destination: Destination, block: Mapping[str, Any]
) -> list[SpecIssue]:
    """One issue when the sync's batch_size (its own, else the defaults') passes the cap."""
    sync = data["syncs"][index]
    own = sync.get("delivery") if isinstance(sync.get("delivery"), dict) else {}
    inherited = (data.get("defaults") or {}).get("delivery") or {}
    path: tuple[str | int, ...]
    if "batch_size" in own:
        size, path = own["batch_size"], ("syncs", index, "delivery", "batch_size")
    elif isinstance(inherited, dict) and "batch_size" in inherited:
        size, path = inherited["batch_size"], ("defaults", "delivery", "batch_size")
    else:
        return []
    try:
        found = batch_cap(destination, block)
    except (KeyError, TypeError, ValueError):  # a block the destination refused: no cap to tell
        return []
    if found is None or not isinstance(size, int) or size <= found[0]:
        return []
    cap, what = found
    if cap == 1 and path[0] == "defaults":
        return []  # a default for the batching syncs says nothing about a one-record route
    if cap == 1:
        fix = "it sends one record a request: leave batch_size out"
    else:
        fix = f"set batch_size to {cap} or less, or leave it out (the cap is the default)"
    where = f" (for syncs[{index}])" if path[0] == "defaults" else ""
    return [
        SpecIssue(path, f"{size} is more than {what} takes in one request ({cap}){where}: {fix}")
    ]
