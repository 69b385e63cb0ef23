"""The installed entry points of a few groups, read straight from the distributions' metadata.

importlib.metadata costs more to import and to scan every distribution with than `omnisync
validate` takes to run (about 45 ms of a 0.2 s budget): this reads `entry_points.txt` of each
`*.dist-info` / `*.egg-info` directory on sys.path, the first distribution of a name winning as in
importlib.metadata. A path entry that is a zip file or an egg (which this does not read) hands the
whole discovery to importlib.metadata.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

_INFO = (".dist-info", ".egg-info")
_ENTRY = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


@dataclass(frozen=True)
class EntryPoint:
    """One `name = module:attr` line of a group, and the distribution that declared it."""

    group: str
    name: str
    value: str
    dist: str

    def load(self) -> Any:
        match = _ENTRY.match(self.value)
        if match is None:
            raise ValueError(f"not an entry point: {self.value!r}")
        loaded: Any = importlib.import_module(match.group("module"))
        for attribute in filter(None, (match.group("attr") or "").split(".")):
            loaded = getattr(loaded, attribute)
        return loaded


def entry_points(groups: Iterable[str]) -> list[EntryPoint]:
    """Every entry point of these groups, in the order of sys.path and then of the names."""
    wanted = set(groups)
    infos = _infos()
    if infos is None:
        return _from_importlib(wanted)
    found: list[EntryPoint] = []
    for path, dist in infos:
        text = _read(os.path.join(path, "entry_points.txt"))
        if text is None:
            continue
        points = list(_parse(text, wanted, dist))
        if points:  # the distribution's own spelling of its name, as importlib.metadata gives it
            found.extend(EntryPoint(p.group, p.name, p.value, _name(path) or dist) for p in points)
    return found


def _infos() -> list[tuple[str, str]] | None:
    """(metadata directory, normalized name) of each distribution, the first of a name only;
    None when a path entry is an archive this does not read."""
    seen: set[str] = set()
    infos: list[tuple[str, str]] = []
    for entry in sys.path:
        directory = entry or "."
        try:
            names = sorted(os.listdir(directory))
        except NotADirectoryError:
            return None
        except OSError:
            continue
        for name in names:
            if not name.endswith(_INFO):
                continue
            if not os.path.isdir(os.path.join(directory, name)):
                return None  # a PKG-INFO file or an egg: importlib.metadata knows those
            dist = re.sub(r"[-_.]+", "_", name.rsplit(".", 1)[0].split("-", 1)[0]).lower()
            if dist not in seen:
                seen.add(dist)
                infos.append((os.path.join(directory, name), dist))
    return infos


def _parse(text: str, wanted: set[str], dist: str) -> Iterator[EntryPoint]:
    group: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
        elif group in wanted and "=" in line:
            name, value = (part.strip() for part in line.split("=", 1))
            yield EntryPoint(group, name, value, dist)


def _name(path: str) -> str | None:
    """The Name: header of the distribution's metadata."""
    for file in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(path, file))
        if text is not None:
            for line in text.splitlines():
                if line.startswith("Name:"):
                    return line[5:].strip()
                if not line:
                    break
    return None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _from_importlib(wanted: set[str]) -> list[EntryPoint]:
    from importlib.metadata import entry_points as installed

    found: list[EntryPoint] = []
    for group in sorted(wanted):
        for ep in installed(group=group):
            dist = ep.dist.name if ep.dist is not None else "?"
            found.append(EntryPoint(group, ep.name, ep.value, dist))
    return found
