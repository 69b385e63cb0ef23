"""Degraded-run conditions (`expect:`): which a finished sync breached, in words an operator reads
in the log, the step summary, a GitHub annotation and the webhook message.

`max_changed_share` is judged before anything is sent (engine/run/change_plan.py); the others
need the run's own figures and are judged after it."""

from __future__ import annotations

import os
from collections.abc import Sequence

from engine.outcomes.report import SyncStats
from engine.specfile import SyncSpec
from engine.specfile.expect import Expect

GITHUB_ENV = "GITHUB_ACTIONS"


def breaches(expect: Expect, stats: SyncStats) -> list[str]:
    """The bounds this sync's run broke, each with the figure and the bound; none: healthy."""
    found: list[str] = []
    if stats.stopped and stats.stopped.startswith("not run"):
        return found  # a sync that did not run is reported as such, not as degraded
    if expect.min_rows is not None and stats.read < expect.min_rows:
        found.append(f"read {stats.read} rows, expected at least {expect.min_rows}")
    ratio = stats.rejected / stats.read if stats.read else 0.0
    if expect.max_reject_ratio is not None and ratio > expect.max_reject_ratio:
        found.append(
            f"rejected {stats.rejected} of {stats.read} rows ({ratio:.1%}), "
            f"expected at most {expect.max_reject_ratio:.1%}"
        )
    throttled = stats.requests.by_status.get("429", 0)
    if expect.max_429 is not None and throttled > expect.max_429:
        found.append(
            f"got {throttled} answers 429 (too many requests), expected at most {expect.max_429}"
        )
    if expect.max_duration is not None and stats.elapsed > expect.max_duration:
        found.append(f"took {stats.elapsed:.1f}s, expected at most {expect.max_duration:g}s")
    return found


def changed_share_breach(expect: Expect, changed: int, unchanged: int) -> str | None:
    """Of the records sent before (changed + unchanged), the share about to be sent again."""
    known = changed + unchanged
    if expect.max_changed_share is None or not known:
        return None  # a first run has nothing to compare with: every record is new
    share = changed / known
    if share <= expect.max_changed_share:
        return None
    return (
        f"{changed} of {known} records sent before changed ({share:.1%}), expected at most "
        f"{expect.max_changed_share:.1%}: nothing was sent (a mapping change resends them all; "
        "review it with `omnisync plan --changes`, then raise expect.max_changed_share to let it go)"
    )


def run_breaches(syncs: Sequence[SyncSpec], finished: Sequence[SyncStats]) -> list[str]:
    """Every breach of a finished run, named by its sync."""
    by_name = {sync.name: sync for sync in syncs}
    return [
        f"{stats.sync}: {message}"
        for stats in finished
        if stats.sync in by_name
        for message in breaches(by_name[stats.sync].expect, stats)
    ]


def github_annotations(found: Sequence[str]) -> list[str]:
    """GitHub workflow commands: each breach as a warning on the run's page (only in Actions)."""
    if os.environ.get(GITHUB_ENV) != "true":
        return []
    return [f"::warning title=omnisync expect::{_escaped(message)}" for message in found]


def _escaped(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped as GitHub documents."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
