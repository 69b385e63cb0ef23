"""A run's error and exit code, from what its syncs did: a failure first (the first in the spec's
order gives the code), then reject ratios exceeded, and a stop request above both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.errors import ExitCode, OmnisyncError
from engine.outcomes.report import SyncStats
from engine.run.assemble import reject_policy
from engine.run.stop import StopRequest
from engine.specfile import SyncSpec
from engine.state.base import StateError


def judge(
    syncs: Sequence[SyncSpec],
    finished: list[SyncStats],
    failures: Mapping[str, OmnisyncError],
    stop: StopRequest,
    closed_with: StateError | None,
) -> tuple[str | None, ExitCode]:
    """(the run's error, its exit code): each failure and exceeded reject ratio named."""
    failed = [failures[sync.name] for sync in syncs if sync.name in failures]
    exceeded = [
        message
        for sync, stats in zip(syncs, finished, strict=True)
        if sync.name not in failures  # stopped early: its own message says so
        and (message := reject_policy(sync).exceeded(stats.rejected, stats.read)) is not None
    ]
    messages = [_named(sync.name, failures[sync.name]) for sync in syncs if sync.name in failures]
    if closed_with is not None:  # the store failed as the run let go of it
        failed.append(closed_with)
        messages.append(str(closed_with))
    error = "\n".join([*messages, *exceeded]) or None
    code = ExitCode.OK
    if failed:  # a failure outranks rejects
        code = failed[0].exit_code
    elif exceeded:
        code = ExitCode.REJECTS_EXCEEDED
    if stop.requested:
        return f"{stop.reason}: stopped after the requests in flight", stop.exit_code
    return error, code


def _named(name: str, error: OmnisyncError) -> str:
    text = str(error)
    return text if text.startswith(f"{name}:") else f"{name}: {text}"
