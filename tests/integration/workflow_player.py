"""A small GitHub Actions runner for the tests: plays one job of a workflow file in a directory, as
a hosted runner would, with only the environment a runner gives.

- `run:` steps run in bash (`bash --noprofile --norc -eo pipefail`, the runner's default shell);
- the omnisync action (`uses: <owner>/omnisync@<tag>` or `./`) runs the `run:` steps of this
  repository's action.yml with the step's inputs, from a copy of the repository standing for the
  action's checkout;
- `actions/checkout` is the directory itself; `actions/setup-python` puts this test's Python
  (without its packages) first on PATH as `python3`;
- `actions/upload-artifact` collects the files its `path:` patterns match, with the rules of
  @actions/glob as upload-artifact uses it: a hidden file or folder (a name starting with `.`) met
  from a pattern's search root down is left out unless `include-hidden-files: true`;
- GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY work as files, `${{ }}` takes the contexts
  used by the workflows here (secrets, github, runner, inputs, steps.<id>.outputs, env), and `if:`
  the conditions they use. Anything else fails the test instead of being skipped.

No network: pip finds the packages of this test's environment (PYTHONPATH) and never the index
(PIP_NO_INDEX), where a runner would download them.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class Step:
    name: str
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    skipped: bool = False


@dataclass
class Artifact:
    name: str
    files: list[str]  # relative to the workspace
    warnings: list[str] = field(default_factory=list)


@dataclass
class JobResult:
    steps: list[Step] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # step id -> outputs

    @property
    def succeeded(self) -> bool:
        return all(s.exit_code == 0 for s in self.steps)

    def log(self) -> str:
        return "\n".join(f"== {s.name}: {s.exit_code}\n{s.stdout}{s.stderr}" for s in self.steps)


def action_checkout(into: Path) -> Path:
    """A copy of the repository's files (those git keeps or would keep), as the runner downloads
    the action at its tag."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def collect_upload(workspace: Path, with_: dict[str, Any]) -> Artifact:
    """The files actions/upload-artifact would upload for these inputs."""
    include_hidden = str(with_.get("include-hidden-files", "false")).lower() == "true"
    found: set[str] = set()
    excluded: set[str] = set()
    for line in str(with_.get("path", "")).splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        target = excluded if pattern.startswith("!") else found
        target.update(_matches(workspace, pattern.lstrip("!"), include_hidden))
    files = sorted(found - excluded)
    artifact = Artifact(str(with_.get("name", "artifact")), files)
    if not files:
        artifact.warnings.append("No files were found with the provided path")
    return artifact


def _matches(workspace: Path, pattern: str, include_hidden: bool) -> set[str]:
    assert not Path(pattern).is_absolute(), f"the player takes paths in the workspace: {pattern}"
    segments = pattern.split("/")
    literal = next((i for i, s in enumerate(segments) if GLOB_CHARS.search(s)), len(segments))
    root = workspace.joinpath(*segments[:literal]) if literal else workspace
    if literal == len(segments):  # no wildcard: the search root is the path itself
        root = workspace / pattern
    hits = glob.glob(str(workspace / pattern), recursive=True, include_hidden=True)
    files: set[str] = set()
    for hit in map(Path, hits):
        for path in [hit] if hit.is_file() else [p for p in hit.rglob("*") if p.is_file()]:
            below = path.relative_to(root.parent).parts  # the search root's name, then below it
            if include_hidden or not any(part.startswith(".") for part in below):
                files.add(path.relative_to(workspace).as_posix())
    return files


class Player:
    """Plays jobs of one workflow in `workspace` (a checkout of the user's repository)."""

    def __init__(self, workflow: Path, workspace: Path, runner: Path, event: str) -> None:
        self.workflow: dict[str, Any] = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        self.workspace = workspace
        self.event = event
        self.temp = runner / "temp"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.action = action_checkout(runner / "action")
        self.summary = runner / "step_summary.md"
        self.summary.touch()
        self.path_file = runner / "github_path"
        self.path_file.touch()
        self.python = runner / "python"  # what setup-python gives: an interpreter on PATH
        (runner / "home").mkdir(exist_ok=True)

    def base_env(self, job_env: dict[str, str]) -> dict[str, str]:
        """A runner's environment: no developer variables, CI flags, the runner's files."""
        keep = ("LANG", "TMPDIR")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        added = self.path_file.read_text(encoding="utf-8").split()
        path = [*reversed(added), "/usr/local/bin", "/usr/bin", "/bin"]
        return {
            **env,
            "PATH": os.pathsep.join(path),
            "HOME": str(self.python.parent / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event,
            "GITHUB_RUN_ID": "1234",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_PATH": str(self.path_file),
            "RUNNER_TEMP": str(self.temp),
            # the package index, offline: the packages this test runs with, never a download
            "PYTHONPATH": sysconfig.get_paths()["purelib"],
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",
            **job_env,
        }

    def play(self, job_name: str, secrets: dict[str, str]) -> JobResult:
        job: dict[str, Any] = self.workflow["jobs"][job_name]
        result = JobResult()
        context = {"secrets": secrets, "steps": result.outputs}
        if "if" in job and not self._condition(job["if"], result):
            return result
        job_env = {k: self._expand(str(v), context) for k, v in job.get("env", {}).items()}
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
            if not self._condition(step.get("if", "success()"), result):
                result.steps.append(Step(name, 0, skipped=True))
                continue
            outputs = self._step(step, job_env, context, result, f"{job_name}-{number}")
            if "id" in step:
                result.outputs[step["id"]] = outputs
        return result

    def _step(
        self,
        step: dict[str, Any],
        job_env: dict[str, str],
        context: dict[str, Any],
        result: JobResult,
        key: str,
    ) -> dict[str, str]:
        name = step.get("name") or step.get("uses") or "run"
        env = {
            **job_env,
            **{k: self._expand(str(v), context) for k, v in step.get("env", {}).items()},
        }
        uses = str(step.get("uses", ""))
        with_ = {k: self._expand(str(v), context) for k, v in step.get("with", {}).items()}
        if "run" in step:
            outputs, ran = self._bash(self._expand(step["run"], context), env, key)
            result.steps.append(Step(name, *ran))
            return outputs
        if uses.startswith("actions/checkout@"):
            result.steps.append(Step(name, 0))
        elif uses.startswith("actions/setup-python@"):
            self._setup_python()
            result.steps.append(Step(name, 0))
        elif uses.startswith("actions/upload-artifact@"):
            artifact = collect_upload(self.workspace, with_)
            failed = not artifact.files and with_.get("if-no-files-found") == "error"
            result.artifacts.append(artifact)
            result.steps.append(Step(name, int(failed), "\n".join(artifact.warnings)))
        elif uses == "./" or re.fullmatch(r"[^/]+/omnisync@[\w.-]+", uses):
            return self._action(name, with_, env, result, key)
        else:
            raise NotImplementedError(f"the player has no stand-in for `uses: {uses}`")
        return {}

    def _action(
        self, name: str, with_: dict[str, str], env: dict[str, str], result: JobResult, key: str
    ) -> dict[str, str]:
        """action.yml's own steps, with the step's inputs over the action's defaults."""
        action: dict[str, Any] = yaml.safe_load((self.action / "action.yml").read_text("utf-8"))
        unknown = set(with_) - set(action["inputs"])
        if unknown:
            raise AssertionError(f"{name}: inputs the action does not have: {sorted(unknown)}")
        inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
        inputs.update(with_)
        missing = [k for k, v in action["inputs"].items() if v.get("required") and k not in with_]
        assert not missing, f"{name}: required inputs missing: {missing}"
        inner: dict[str, dict[str, str]] = {}
        context = {"inputs": inputs, "steps": inner, "github.action_path": str(self.action)}
        for number, step in enumerate(action["runs"]["steps"]):
            assert "run" in step, "the action's steps are run: steps"
            assert step.get("shell") == "bash", "the action's steps run in bash"
            step_env = {**env, **{k: self._expand(str(v), context) for k, v in step["env"].items()}}
            outputs, ran = self._bash(
                self._expand(step["run"], context), step_env, f"{key}-{number}"
            )
            title = self._expand(str(step.get("name", number)), context)
            result.steps.append(Step(f"{name}: {title}", *ran))
            if "id" in step:
                inner[step["id"]] = outputs
            if ran[0] != 0:
                break
        return {k: self._expand(str(v["value"]), context) for k, v in action["outputs"].items()}

    def _bash(
        self, script: str, env: dict[str, str], key: str
    ) -> tuple[dict[str, str], tuple[int, str, str]]:
        output_file = self.temp / f"output-{key}"
        output_file.write_text("", encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env={**self.base_env(env), "GITHUB_OUTPUT": str(output_file)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        outputs = _parse_outputs(output_file.read_text(encoding="utf-8"))
        return outputs, (done.returncode, done.stdout, done.stderr)

    def _setup_python(self) -> None:
        """This test's interpreter, without the packages of its environment, as `python3`."""
        self.python.mkdir(exist_ok=True)
        base = Path(getattr(sys, "_base_executable", sys.executable))
        for alias in ("python", "python3"):
            (self.python / alias).unlink(missing_ok=True)
            (self.python / alias).symlink_to(base)
        with self.path_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{self.python}\n")

    def _condition(self, text: str, result: JobResult) -> bool:
        condition = EXPRESSION.sub(r"\1", str(text)).strip()
        failed = not result.succeeded
        if condition in ("always()", "success()", "failure()"):
            return {"always()": True, "success()": not failed, "failure()": failed}[condition]
        match = re.fullmatch(r"github\.event_name\s*(==|!=)\s*'([^']*)'", condition)
        if match is None:
            raise NotImplementedError(f"the player cannot judge `if: {text}`")
        return (self.event == match.group(2)) == (match.group(1) == "==") and not failed

    def _expand(self, text: str, context: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in context:
                return str(context[name])
            head, _, rest = name.partition(".")
            if head == "secrets":
                return str(context["secrets"].get(rest, ""))  # an unset secret is empty
            if head == "inputs":
                return str(context["inputs"][rest])
            if head == "steps":
                step_id, kind, output = rest.split(".", 2)
                assert kind == "outputs", name
                return str(context["steps"].get(step_id, {}).get(output, ""))
            fixed = {
                "github.run_id": "1234",
                "github.event_name": self.event,
                "github.workspace": str(self.workspace),
                "runner.temp": str(self.temp),
            }
            if name in fixed:
                return fixed[name]
            raise NotImplementedError(f"the player cannot expand ${{{{ {name} }}}}")

        return EXPRESSION.sub(value, text)


def _parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT lines: `name=value`, or `name<<DELIMITER`, lines, `DELIMITER`."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for more in lines:
                if more == delimiter:
                    break
                value.append(more)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, _, rest = line.partition("=")
            outputs[name] = rest
    return outputs
