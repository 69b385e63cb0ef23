"""Whose state it is: the scope that qualifies a spec's stored positions, digests and lock.

Keying state by the spec's file name alone let `tw/members.yaml` and `jp/members.yaml` (two
accounts, one store) share one incremental mark: the second run took the first's mark as its own
and read nothing. The scope is now, unless the spec names one (`state: {scope: ...}`):

- the spec's path within its git repository (the nearest folder above it holding `.git`), so a
  fresh CI checkout in another folder finds the same state; without a repository, its absolute
  path;
- plus the destination account(s) the spec delivers to (an id such as OmniSegment's tid, never a
  secret), so one spec run for two accounts keeps two states: `tw/members.yaml[OA-tw]`.

The former key (`<file name>:<sync>`) is still looked for once, so an existing store moves under the
new key without losing a position (engine/run/resume.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SEPARATOR = ":"  # between the scope and a sync name (sync names never hold one)


@dataclass(frozen=True)
class StateIdentity:
    scope: str  # what keys and the lock are qualified by
    origin: str  # how the scope was found, for `state show`
    file_name: str  # the spec's file name: the former scope, and the digests' hashing label

    def key(self, sync: str) -> str:
        return f"{self.scope}{SEPARATOR}{sync}"

    def former_key(self, sync: str) -> str:
        """The key a store written before scopes existed holds this sync's state under."""
        return f"{self.file_name}{SEPARATOR}{sync}"

    def sync_of(self, key: str) -> str | None:
        """The sync name of one of this scope's keys; None for another scope's key."""
        prefix = self.key("")
        name = key[len(prefix) :] if key.startswith(prefix) else None
        return name if name and SEPARATOR not in name else None


def spec_place(spec_file: Path) -> tuple[str, str]:
    """(the spec's path within its git repository, how it was found), else its absolute path."""
    resolved = spec_file.resolve()
    for folder in resolved.parents:
        if (folder / ".git").exists():  # a folder, or a file in a worktree or submodule
            return resolved.relative_to(folder).as_posix(), "its path in its git repository"
    return resolved.as_posix(), "its absolute path (no git repository above the spec)"


def state_identity(
    spec_file: Path, explicit: str | None = None, accounts: Iterable[str] = ()
) -> StateIdentity:
    """The spec's scope: `explicit` as written, else its place plus the accounts it delivers to."""
    if explicit:
        return StateIdentity(explicit, "state.scope in the spec", spec_file.name)
    place, origin = spec_place(spec_file)
    named = sorted(set(accounts))
    if named:
        plural = "s" if len(named) > 1 else ""
        return StateIdentity(
            f"{place}[{'+'.join(named)}]",
            f"{origin} and the destination account{plural}",
            spec_file.name,
        )
    return StateIdentity(place, origin, spec_file.name)
