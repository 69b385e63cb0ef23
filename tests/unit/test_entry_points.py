"""Entry points read from the distributions' metadata files, as importlib.metadata reads them."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points as installed
from pathlib import Path

import pytest

from engine.plugins import GROUPS
from engine.plugins import entry_points as entry_points_module
from engine.plugins.entry_points import EntryPoint, entry_points


def dist(root: Path, folder: str, name: str, points: str) -> None:
    info = root / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1\n\nbody\n")
    (info / "entry_points.txt").write_text(points)


def test_the_installed_plugins_are_the_ones_importlib_metadata_names() -> None:
    ours = {(ep.group, ep.name, ep.value, ep.dist) for ep in entry_points(GROUPS.values())}
    theirs = {
        (ep.group, ep.name, ep.value, ep.dist.name if ep.dist else "?")
        for group in GROUPS.values()
        for ep in installed(group=group)
    }
    assert ours == theirs
    assert ("omnisync.sources", "csv", "connectors.csv:CsvSource", "omnisync-engine") in ours


def test_the_first_distribution_of_a_name_wins_and_comments_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    points = "# a comment\n[omnisync.sources]\nfake = json:loads\n; another\n[other]\nx = y:z\n"
    dist(first, "acme_plugin-1.0.dist-info", "acme-plugin", points)
    dist(second, "Acme.Plugin-2.0.dist-info", "Acme.Plugin", "[omnisync.sources]\nfake = os:sep\n")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    found = entry_points(["omnisync.sources"])
    assert found == [EntryPoint("omnisync.sources", "fake", "json:loads", "acme-plugin")]
    import json

    assert found[0].load() is json.loads


def test_an_archive_on_the_path_is_read_by_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip file
    monkeypatch.setattr(sys, "path", [*sys.path, str(archive)])
    asked: list[set[str]] = []
    real = entry_points_module._from_importlib
    monkeypatch.setattr(
        entry_points_module, "_from_importlib", lambda wanted: asked.append(wanted) or real(wanted)
    )
    names = {ep.name for ep in entry_points(["omnisync.sources"])}
    assert asked == [{"omnisync.sources"}]
    assert {"csv", "sql", "s3"} <= names
