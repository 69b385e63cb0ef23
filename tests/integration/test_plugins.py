"""A third-party source plugin, installed as a package, is discovered and used by a run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.plugins import load_registry
from tests.conftest import ROOT, RunningSandbox, run_cli
from tests.integration._sources import write_spec

PLUGIN = ROOT / "tests" / "plugins" / "omnisync-fake-source"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The plugin built and installed with pip into a directory of its own, not the test venv."""
    target = tmp_path_factory.mktemp("plugin-site")
    source = tmp_path_factory.mktemp("plugin-src") / PLUGIN.name
    shutil.copytree(PLUGIN, source)  # setuptools builds in the tree: keep ours clean
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    return str(target)


def _env(base: dict[str, str], plugin_path: str) -> dict[str, str]:
    paths = [plugin_path, base.get("PYTHONPATH", "")]
    return {**base, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def test_plugins_lists_builtins_and_the_installed_plugin(plugin_path: str) -> None:
    """`omnisync plugins` shows the built-in sources and `fake` from its own distribution."""
    result = run_cli("plugins", env=_env(dict(os.environ), plugin_path))

    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    sources = {parts[0]: parts[1] for parts in lines if len(parts) == 2}
    assert sources["fake"] == "(omnisync-fake-source)"
    for builtin in ("csv", "jsonl", "parquet", "s3", "sql"):
        assert sources[builtin] == "(omnisync-engine)"
    assert sources["shout"] == "(omnisync-fake-source)"  # its transform, listed the same way


def test_a_spec_runs_with_the_plugin_source(
    plugin_path: str, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A spec naming the plugin's source validates and delivers its rows to the sandbox."""
    spec = write_spec(tmp_path, {"fake": {"count": 750, "prefix": "P"}})

    result = run_cli("run", str(spec), env=_env(sandbox_env, plugin_path))

    assert result.returncode == 0, result.stderr
    assert "members: read 750, delivered 750, rejected 0" in result.stdout
    stored = sandbox.records("audience")
    assert len(stored) == 750
    assert stored["P00749"] == {"member_sn": "P00749", "name": "Fake 749"}


def test_a_plugin_transform_is_checked_and_applied(
    plugin_path: str, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A transform from a plugin's omnisync.transforms entry point: its args are validated before
    the run, then it maps every row."""
    spec = write_spec(tmp_path, {"fake": {"count": 3}})
    text = spec.read_text(encoding="utf-8")
    bad = spec.with_name("bad.yaml")
    bad.write_text(text.replace("name: name", "name: {from: name, transforms: [{shout: '!!!!'}]}"))
    spec.write_text(text.replace("name: name", "name: {from: name, transforms: [{shout: '?'}]}"))
    env = _env(sandbox_env, plugin_path)

    refused = run_cli("validate", str(bad), env=env)
    result = run_cli("run", str(spec), env=env)

    assert refused.returncode == 2
    assert "bad arguments for 'shout'" in refused.stderr
    assert result.returncode == 0, result.stderr
    assert sandbox.records("audience")["F00002"]["name"] == "FAKE 2?"


def test_a_failing_plugin_stops_its_sync_with_one_line_and_no_traceback(
    plugin_path: str, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """An unexpected exception in a plugin ends the run with exit 1 and a readable message."""
    spec = write_spec(tmp_path, {"fake": {"count": 500, "fail_at": 120}})

    result = run_cli("run", str(spec), env=_env(sandbox_env, plugin_path))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "stopped by an unexpected RuntimeError: the fake source broke at row 120" in result.stderr
    )
    assert len(sandbox.records("audience")) <= 120


def test_the_test_environment_itself_stays_clean() -> None:
    """The plugin is installed for the subprocess runs only."""
    assert "fake" not in load_registry().sources
