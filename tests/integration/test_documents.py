"""Documents are code: every fenced block of README.md and docs/*.md is run, validated or parsed.

- `sh`: run with bash (`-e -o pipefail`) in a fresh directory, `omnisync` on PATH as installed
  from this checkout; the processes it leaves (a sandbox in the background) are ended after it.
- `yaml`: a spec, or part of one (a sync, a field, top-level keys), is validated with
  `omnisync validate --offline` (a part inside a minimal spec around it); a workflow, a GitLab
  pipeline or a pre-commit configuration is checked by what checks those (actionlint, the vendor's
  schema, the hooks this repository offers).
- `json`, `toml`, `python`: parsed. `text`: output, diagrams and synopses, not run.

An HTML comment on the line before a block says more about it:
`<!-- doc: exit 2 -->` the block is meant to fail with this exit code (a spec: `validate`'s);
`<!-- doc: network -->` it needs the network or a real host: parsed only (`bash -n`, YAML), and
the omnisync commands it names must exist;
`<!-- doc: suite -->` it runs this repository's own tests (a suite within the suite): parsed only,
and every test file it names must exist;
`<!-- doc: github-workflow -->`, `<!-- doc: gitlab-ci -->`, `<!-- doc: pre-commit-config -->`:
the kind of a YAML block that is not a spec.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, invoke_cli

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\n(.*?)^```$", re.M | re.S)
MARK = re.compile(r"<!-- doc: (.*?) -->")
KINDS = {"github-workflow", "gitlab-ci", "pre-commit-config"}
BIN = Path(sys.executable).parent
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["urls"][
    "Repository"
]


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence
    language: str
    text: str
    marks: frozenset[str]

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def exit_code(self) -> int:
        codes = [int(m.split()[1]) for m in self.marks if m.startswith("exit ")]
        return codes[0] if codes else 0


def _blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for fence in FENCE.finditer(text):
            before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = MARK.fullmatch(before.strip())
            marks = {m.strip() for m in mark.group(1).split(",")} if mark else set()
            line = text.count("\n", 0, fence.start()) + 1
            found.append(Block(document, line, fence.group(1), fence.group(2), frozenset(marks)))
    return found


BLOCKS = _blocks()


def test_every_block_says_what_it_is() -> None:
    unlabelled = [b.id for b in BLOCKS if not b.language]
    unknown = [f"{b.id}: {m}" for b in BLOCKS for m in b.marks if not _known_mark(m)]

    assert not unlabelled, f"give these blocks a language (`text` for output): {unlabelled}"
    assert not unknown, f"marks this test does not know: {unknown}"


def _known_mark(mark: str) -> bool:
    return mark in KINDS | {"network", "suite"} or re.fullmatch(r"exit \d+", mark) is not None


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_the_block_does_what_the_document_says(block: Block, tmp_path: Path) -> None:
    check = {
        "sh": _shell,
        "yaml": _yaml,
        "json": lambda b, _: json.loads(b.text),
        "toml": lambda b, _: tomllib.loads(b.text),
        "python": lambda b, _: compile(b.text, b.id, "exec"),
        "text": lambda b, _: None,
    }.get(block.language)
    assert check is not None, f"{block.id}: no check for ```{block.language} blocks"
    check(block, tmp_path)


# -- shell ----------------------------------------------------------------------------------------


def _shell(block: Block, tmp_path: Path) -> None:
    if "suite" in block.marks:
        parsed = subprocess.run(["bash", "-n"], input=block.text, text=True, capture_output=True)
        assert parsed.returncode == 0, f"{block.id}: {parsed.stderr}"
        missing = [
            f for f in re.findall(r"\btests/[\w/]+\.py", block.text) if not (ROOT / f).is_file()
        ]
        assert not missing, f"{block.id}: no such test files: {missing}"
        return
    if "network" in block.marks:
        parsed = subprocess.run(["bash", "-n"], input=block.text, text=True, capture_output=True)
        assert parsed.returncode == 0, f"{block.id}: {parsed.stderr}"
        for command in sorted(set(re.findall(r"(?:^|[\s/])omnisync ([a-z][\w-]*)", block.text))):
            assert _is_command(command), f"{block.id}: no command `omnisync {command}`"
        return
    for port in re.findall(r"127\.0\.0\.1:(\d+)", block.text):
        if _answers(int(port)):
            pytest.skip(f"{block.id} uses port {port}, which something else holds")
    ran = _run_bash(block.text, tmp_path)
    assert ran.returncode == block.exit_code, f"{block.id}:\n{ran.stdout}\n{ran.stderr}"


def _run_bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The block as a person pastes it into a fresh shell; whatever it left running is ended."""
    env = {
        "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(cwd),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    out, err = cwd / ".stdout", cwd / ".stderr"  # files: a background job keeps a pipe open
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        try:
            process.wait(timeout=180)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    return subprocess.CompletedProcess(
        process.args, process.returncode, out.read_text("utf-8"), err.read_text("utf-8")
    )


@cache
def _is_command(name: str) -> bool:
    return invoke_cli(name, "--help").returncode == 0


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


# -- YAML -----------------------------------------------------------------------------------------


class _UniqueKeys(yaml.SafeLoader):
    """A key twice in one mapping is an error, as the spec loader has it (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = {k for k in keys if keys.count(k) > 1}
        assert not twice, f"line {node.start_mark.line + 1}: {sorted(map(str, twice))} twice"
        return super().construct_mapping(node, deep=deep)


def _yaml(block: Block, tmp_path: Path) -> None:
    lines = [x for x in block.text.splitlines() if x.strip() != "..."]  # `...`: the rest, elided
    data = yaml.load("\n".join(lines), Loader=_UniqueKeys)  # a SafeLoader
    kind = next(iter(block.marks & KINDS), None)
    if kind == "github-workflow":
        _workflow(block, tmp_path)
    elif kind == "gitlab-ci":
        _vendor_schema("vendor.gitlab-ci", block, tmp_path / ".gitlab-ci.yml")
    elif kind == "pre-commit-config":
        _pre_commit(data)
    elif "network" in block.marks or data is None:  # parsed; a block of comments says no more
        return
    else:
        _spec(block, data, tmp_path)


def _spec(block: Block, data: Any, tmp_path: Path) -> None:
    assert isinstance(data, dict), f"{block.id}: a YAML block that is no spec needs a kind mark"
    spec = tmp_path / "specs" / "doc.yaml"
    spec.parent.mkdir(parents=True)
    if _is_whole_spec(data):
        spec.write_text(block.text, encoding="utf-8")  # as written: the lines of its messages
    else:
        spec.write_text(yaml.safe_dump(_around(block, data), allow_unicode=True), "utf-8")
    checked = invoke_cli("validate", "--offline", str(spec), env={"PATH": os.environ["PATH"]})
    assert checked.returncode == block.exit_code, f"{block.id}:\n{checked.stdout}{checked.stderr}"


def _is_whole_spec(data: dict[str, Any]) -> bool:
    return "version" in data and "syncs" in data


SYNC = {
    "name": "doc",
    "source": {"csv": {"path": "doc.csv"}},
    "destination": {"endpoint": "audience", "options": {"merge_key": "member_sn"}},
    "mapping": {"member_sn": "id"},
}


@cache
def _keys() -> dict[str, set[str]]:
    schema = json.loads((ROOT / "engine" / "specfile" / "omnisync.schema.json").read_text("utf-8"))
    return {
        "top": {*schema["properties"], "omnisegment"},
        "sync": set(schema["$defs"]["sync"]["properties"]),
        "field": set(schema["$defs"]["field_object"]["properties"]),
    }


def _around(block: Block, part: dict[str, Any]) -> dict[str, Any]:
    """A part of a spec (a sync's keys, a field's, top-level keys) inside a minimal spec."""
    spec: dict[str, Any] = {"version": 1, "omnisegment": {"environment": "sandbox"}}
    keys = _keys()
    if set(part) <= keys["field"]:
        return {**spec, "syncs": [_merge(SYNC, {"mapping": {"name": {"from": "name", **part}}})]}
    if set(part) <= keys["sync"]:
        return {**spec, "syncs": [_merge(SYNC, part)]}
    assert set(part) <= keys["top"], f"{block.id}: neither a spec nor part of one: {set(part)}"
    syncs = [_merge({**SYNC, "name": f"doc{i}"}, s) for i, s in enumerate(part.get("syncs", []))]
    return {**spec, **part, "syncs": syncs or [SYNC]}


def _merge(base: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """The part over the base; a mapping and a destination are added to, anything else replaced."""
    merged = copy.deepcopy(base)
    for key, value in part.items():
        if key in ("mapping", "destination") and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _tool(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is in the test extra: pip install -e '.[test]'"
    return subprocess.run(
        [found, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _vendor_schema(schema: str, block: Block, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text, encoding="utf-8")
    checked = _tool("check-jsonschema", "--builtin-schema", schema, str(path))
    assert checked.returncode == 0, f"{block.id}: {checked.stdout}{checked.stderr}"


def _workflow(block: Block, tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "doc.yml"
    _vendor_schema("vendor.github-workflows", block, workflow)
    linted = _tool("actionlint", "-no-color", str(workflow), cwd=tmp_path)
    assert linted.returncode == 0, f"{block.id}: {linted.stdout}{linted.stderr}"


def _pre_commit(config: dict[str, Any]) -> None:
    offered = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == REPOSITORY
    assert {h["id"] for h in repo["hooks"]} <= {h["id"] for h in offered}
    for hook in repo["hooks"]:
        re.compile(hook.get("files", ""))


# -- the checks catch what they are for ----------------------------------------------------------


def _one(text: str, language: str, *marks: str) -> Block:
    return Block(ROOT / "README.md", 1, language, text, frozenset(marks))


def test_a_spec_that_fails_validate_fails_unless_it_says_so(tmp_path: Path) -> None:
    wrong = "source: {csv: {path: a.csv}}\nincremental: {cursor: updated_at}\n"

    with pytest.raises(AssertionError, match="the csv source has no cursor 'updated_at'"):
        _yaml(_one(wrong, "yaml"), tmp_path / "a")
    _yaml(_one(wrong, "yaml", "exit 2"), tmp_path / "b")


def test_a_shell_block_runs_and_its_exit_code_counts(tmp_path: Path) -> None:
    _shell(
        _one("omnisync init --source csv --endpoint audience\nomnisync test members.yaml\n", "sh"),
        tmp_path,
    )
    with pytest.raises(AssertionError, match="no such file"):
        _shell(_one("omnisync validate missing.yaml\n", "sh"), tmp_path)
    _shell(_one("omnisync validate missing.yaml\n", "sh", "exit 2"), tmp_path)
    with pytest.raises(AssertionError, match="no command `omnisync deploy`"):
        _shell(_one("pip install .\nomnisync deploy x.yaml\n", "sh", "network"), tmp_path)


def test_a_key_written_twice_is_caught(tmp_path: Path) -> None:
    twice = "state: {backend: sqlite}\nstate: {backend: postgres, url: x}\n"

    with pytest.raises(AssertionError, match=r"\['state'\] twice"):
        _yaml(_one(twice, "yaml"), tmp_path)
