"""Named crash points, for tests only: OMNISYNC_CRASH_AT=<point>[:<n>] SIGKILLs the process the
n-th time (default the first) the run reaches that point, so a test can prove that a crash at
each dangerous moment loses nothing. Unset (always, outside tests) it costs one dict lookup.

Points: before_send, after_send (request sent, answer not read), after_answer (answer read,
checkpoint not moved), state_write (between a state write and its commit), reject_append (half a
reject line written), bisection (between the halves of a split batch), digest_save (digests
acknowledged, not yet saved), trigger_mark (pending trigger marks written, not committed),
trigger_confirm (confirmed trigger marks written, not committed).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

POINTS = frozenset(
    {
        "before_send",
        "after_send",
        "after_answer",
        "state_write",
        "reject_append",
        "bisection",
        "digest_save",
        "trigger_mark",
        "trigger_confirm",
    }
)
_VARIABLE = "OMNISYNC_CRASH_AT"
_hits: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    value = os.environ.get(_VARIABLE)
    if not value:
        return None
    name, _, count = value.partition(":")
    if name not in POINTS:
        raise ValueError(f"{_VARIABLE}={value!r}: no such crash point; known: {sorted(POINTS)}")
    return name, int(count or 1)


def crash_point(name: str, before: Callable[[], object] | None = None) -> None:
    """Die here, without cleanup, when the environment asks for it (see module doc).

    `before` runs just before dying: e.g. flush half a line, so the crash leaves it on disk."""
    target = _target()
    if target is None or target[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= target[1]:
        if before is not None:
            before()
        os.kill(os.getpid(), signal.SIGKILL)
