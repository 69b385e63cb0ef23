"""The distribution is ours (`omnisync` on the public package index is another project's) and
nothing in the repository tells anyone to install omnisync by name from the index."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from importlib.metadata import distribution, version
from pathlib import Path

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DISTRIBUTION = PYPROJECT["project"]["name"]
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]

# Where a user reads how to install omnisync (CHANGELOG.md tells the history, it installs nothing)
READ_BY_USERS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "docs" / "examples").glob("*.y*ml")),
    *sorted(p for p in (ROOT / "configs").rglob("*.y*ml") if ".omnisync" not in p.parts),
    ROOT / "action.yml",
    ROOT / ".pre-commit-hooks.yaml",
]
# `omnisync[postgres]`, "omnisync", omnisync==1.0: the index's omnisync, not this one
BY_NAME = re.compile(r"""(?<![\w/.-])omnisync(\[[^\]]*\]|\s*[=<>~!]=)""")
PIP_INSTALL = re.compile(r"pip3?\s+install\s+([^\n`]*)")


def _pip_targets(text: str) -> list[str]:
    """What each `pip install` line installs (options left out)."""
    targets = []
    for match in PIP_INSTALL.finditer(text):
        words = shlex.split(match.group(1).split("&&")[0].split("#")[0])
        targets += [w for w in words if not w.startswith("-")]
    return targets


def _from_here(target: str) -> bool:
    """A checkout (`.`, a path, the action's own directory) or this repository by tag."""
    if target.startswith((".", "/", "$", "${{")):
        return True
    url = target.split(" @ ", 1)[1] if " @ " in target else target
    return url.startswith(f"git+{REPOSITORY}@") and target.startswith((DISTRIBUTION, "git+"))


def test_the_distribution_is_not_the_name_another_project_holds() -> None:
    assert DISTRIBUTION == "omnisync-engine"
    assert PYPROJECT["project"]["scripts"] == {"omnisync": "engine.cli:main"}  # the command stays
    assert distribution(DISTRIBUTION).entry_points.select(group="console_scripts")


def test_version_is_read_from_the_distribution() -> None:
    command = Path(sys.executable).with_name("omnisync")  # the console script, as installed
    shown = subprocess.run([command, "--version"], capture_output=True, text=True, check=False)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"omnisync, version {version(DISTRIBUTION)}\n"


def test_no_document_installs_omnisync_by_name_from_the_index() -> None:
    found = []
    for path in READ_BY_USERS:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")  # continued lines
        for number, line in enumerate(text.splitlines(), start=1):
            if BY_NAME.search(line) or any(not _from_here(t) for t in _pip_targets(line)):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "install omnisync from the repository or a checkout:\n" + "\n".join(found)


def test_the_install_check_catches_every_form_of_the_name() -> None:
    for bad in (
        'pip install "omnisync[postgres]"',
        "pip install omnisync",
        "pip install 'omnisync[mysql]'",
        "pip3 install -q omnisync==0.1",
        "pip install omnisync-engine",  # not published either: nothing by name from the index
    ):
        assert BY_NAME.search(bad) or any(not _from_here(t) for t in _pip_targets(bad)), bad
    for good in (
        "pip install -e '.[test]'",
        'pip install "$GITHUB_ACTION_PATH[postgres]"',
        f'pip install "{DISTRIBUTION}[postgres] @ git+{REPOSITORY}@v1"',
        f'pip install "git+{REPOSITORY}@v1"',
        "omnisync validate specs/*.yaml",
    ):
        assert not BY_NAME.search(good), good
        assert all(_from_here(t) for t in _pip_targets(good)), good


def test_the_repository_url_is_the_one_the_documents_use() -> None:
    for path in READ_BY_USERS:
        for url in re.findall(
            r"https://github\.com/[^/\s\"'`]+/omnisync\b", path.read_text("utf-8")
        ):
            assert url == REPOSITORY, f"{path.relative_to(ROOT)}: {url}"
