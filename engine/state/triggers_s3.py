"""Trigger marks on S3: one object a write, read back into memory once per scope.

`triggers/<scope>/<epoch>-<n>` holds one write: JSON lines `[key (base64), state, at]`, state
`gone` for a mark removed. At the end of a run that still holds its lease, the scopes it wrote are
folded into one `<epoch>-00000000-base` object holding every mark (a base replaces whatever sorts
before it), and the objects it folded are deleted. Each object is created once (If-None-Match),
after the run proved its lease; reading applies the objects in (epoch, n) order, so a write a run
made late, after it lost its lease to a newer epoch, is overridden by the newer run's writes. A
run with the lock is the only writer of its scope, so the copy it read stays true while it holds
the lock.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Sequence

from engine.state.s3_objects import Objects
from engine.state.triggers import Mark, crash_name, trigger_crash

_GONE = "gone"
_BASE = "-base"


class S3Triggers:
    def __init__(self, objects: Objects, fence: Callable[[], None], epoch: Callable[[], int]):
        self.objects = objects
        self._fence = fence
        self._epoch = epoch
        self._marks: dict[str, dict[bytes, Mark]] = {}
        self._written = 0
        self._touched: set[str] = set()  # scopes this run wrote: folded at its end

    def _folder(self, scope: str) -> str:
        return self.objects.key("triggers", scope) + "/"

    def _scope(self, scope: str) -> dict[bytes, Mark]:
        if scope not in self._marks:
            marks: dict[bytes, Mark] = {}
            folder = self._folder(scope)
            names = sorted(self.objects.listing(folder), key=lambda k: _order(k[len(folder) :]))
            for name in names:
                got = self.objects.get(name)
                if got is not None and name.endswith(_BASE):
                    marks.clear()  # a base holds every mark as of its writing
                for line in got[0].decode().splitlines() if got is not None else ():
                    key, state, at = json.loads(line)
                    hashed = base64.b64decode(key)
                    if state == _GONE:
                        marks.pop(hashed, None)
                    else:
                        marks[hashed] = Mark(state, float(at))
            self._marks[scope] = marks
        return self._marks[scope]

    def _put(self, scope: str, lines: list[list[object]], crash: str | None) -> None:
        self._fence()
        self._written += 1
        body = "\n".join(json.dumps(line) for line in lines).encode()
        name = f"{self._epoch():010d}-{self._written:08d}"
        trigger_crash(crash)  # a PUT is all or nothing: before it, nothing was written
        self.objects.put(self._folder(scope) + name, body)
        self._touched.add(scope)

    def compact(self) -> None:
        """Fold each scope this run wrote into one base object, then delete what it folded (a
        crash in between leaves both: reading the base first, then the rest again, ends the
        same). Called by the store's close while the run still holds its lease."""
        for scope in sorted(self._touched):
            folder = self._folder(scope)
            folded = list(self.objects.listing(folder))
            marks = self._scope(scope)
            lines = [[_b64(k), m.state, m.at] for k, m in marks.items()]
            self._fence()
            body = "\n".join(json.dumps(line) for line in lines).encode()
            base = folder + f"{self._epoch():010d}-00000000{_BASE}"
            self.objects.put(base, body, self._etag(base))
            for name in folded:
                if name != base:
                    self.objects.delete(name)
        self._touched.clear()

    def _etag(self, key: str) -> str | None:
        found = self.objects.get(key)
        return found[1] if found is not None else None

    def lookup(self, scope: str, keys: Sequence[bytes]) -> dict[bytes, Mark]:
        marks = self._scope(scope)
        return {k: marks[k] for k in keys if k in marks}

    def mark(self, scope: str, items: Sequence[tuple[bytes, Mark]]) -> None:
        if not items:
            return
        marks = self._scope(scope)
        self._put(
            scope,
            [[_b64(k), m.state, m.at] for k, m in items],
            crash_name([m for _, m in items]),
        )
        marks.update(items)

    def forget(self, scope: str, keys: Sequence[bytes]) -> None:
        if not keys:
            return
        marks = self._scope(scope)
        self._put(scope, [[_b64(k), _GONE, 0] for k in keys], None)
        for key in keys:
            marks.pop(key, None)

    def _scopes(self, prefix: str) -> list[str]:
        folder = self.objects.key("triggers") + "/"
        found = {name[len(folder) :].rsplit("/", 1)[0] for name in self.objects.listing(folder)}
        scopes = [urllib.parse.unquote(s) for s in found]
        return sorted(s for s in scopes if s.startswith(prefix))

    def counts(self, scope_prefix: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for scope in self._scopes(scope_prefix):
            for mark in self._scope(scope).values():
                counts[mark.state] = counts.get(mark.state, 0) + 1
        return counts

    def clear(self, scope_prefix: str) -> int:
        cleared = 0
        for scope in self._scopes(scope_prefix):
            cleared += len(self._scope(scope))
            self._fence()
            for name in list(self.objects.listing(self._folder(scope))):
                self.objects.delete(name)
            self._marks.pop(scope, None)
        return cleared


def _order(name: str) -> tuple[int, int]:
    epoch, _, number = name.removesuffix(_BASE).partition("-")
    try:
        return int(epoch), int(number)
    except ValueError:
        return -1, -1


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
