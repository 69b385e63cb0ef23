"""docs/orchestrators.md's Python examples run as written, with the real libraries, on the
two-sync spec against the sandbox: the API block, the Dagster definitions (materialized) and the
Airflow DAG file (every DAG run with `dag.test()`, the report read back from XCom)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, RunningSandbox
from tests.integration._two_syncs import write_two_syncs

DOC = ROOT / "docs" / "orchestrators.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
ENV = ("SANDBOX_URL", "OMNISEGMENT_TID", "OMNISEGMENT_API_KEY")


def _example(first_line: str) -> str:
    """The doc's Python block that starts with `first_line`."""
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    return next(b for b in blocks if b.startswith(first_line))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: specs/crm.yaml (members, then vouchers) and its CSV files."""
    (tmp_path / "specs").mkdir()
    write_two_syncs(tmp_path / "specs").rename(tmp_path / "specs" / "crm.yaml")
    return tmp_path


@pytest.fixture
def env(sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ENV:
        monkeypatch.setenv(name, sandbox_env[name])
    return sandbox_env


def test_the_api_example_runs(
    project: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, sandbox: RunningSandbox
) -> None:
    monkeypatch.chdir(project)
    code = _example("import omnisync")
    exec(compile(code, f"{DOC}:api", "exec"), {"__name__": "example"})
    report = json.loads((project / "out" / "report.json").read_text())
    assert [s["sync"] for s in report["syncs"]] == ["members"]
    assert len(sandbox.records("audience")) == 2


@pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.BetaWarning")
def test_the_dagster_example_materializes_every_sync(
    project: Path, env: dict[str, str], sandbox: RunningSandbox
) -> None:
    dg = pytest.importorskip("dagster")
    import runpy

    path = project / "definitions.py"
    path.write_text(_example("# file: definitions.py"), encoding="utf-8")
    defs = runpy.run_path(str(path))["defs"]
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    assert result.success
    done = {
        e.event_specific_data.materialization.asset_key.to_user_string(): (
            e.event_specific_data.materialization.metadata["delivered"].value
        )
        for e in result.get_asset_materialization_events()
    }
    assert done == {"crm/members": 2, "crm/vouchers": 2}


DAG_TEST = """\
import json, runpy, sys
found = runpy.run_path(sys.argv[1])
out = {}
for name in sys.argv[2:]:
    dag = found[name]
    run = dag.test()
    tasks = {}
    for ti in run.get_task_instances():
        tasks[ti.task_id] = {
            "state": str(ti.state),
            "return_value": ti.xcom_pull(task_ids=ti.task_id),
            "report": ti.xcom_pull(task_ids=ti.task_id, key="report"),
        }
    out[name] = {"state": str(run.state), "tasks": tasks}
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Airflow home with its database migrated (SQLite), for the DAG files of this module."""
    if importlib.util.find_spec("airflow") is None:  # not imported here: it sets up logging
        pytest.skip("apache-airflow is not installed (extra [airflow])")
    home = tmp_path_factory.mktemp("airflow")
    (home / "dags").mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    migrated = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return env


def dag_test(airflow_home: dict[str, str], dag_file: str, *dags: str, **env: str) -> Any:
    """The DAG file in Airflow's dags folder, each named DAG run by `dag.test()` in a process of
    its own (Airflow reads its home at import); per DAG its state and each task's XComs."""
    folder = Path(airflow_home["AIRFLOW__CORE__DAGS_FOLDER"])
    path = folder / "crm.py"
    path.write_text(dag_file, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", DAG_TEST, str(path), *dags],
        env={**airflow_home, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(line.removeprefix("RESULT "))


def test_the_airflow_example_runs_and_its_xcom_holds_the_report(
    airflow_home: dict[str, str], sandbox_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    folder = Path(airflow_home["AIRFLOW__CORE__DAGS_FOLDER"])
    (folder / "specs").mkdir(exist_ok=True)
    write_two_syncs(folder / "specs").rename(folder / "specs" / "crm.yaml")
    env = {name: sandbox_env[name] for name in ENV}
    found = dag_test(airflow_home, _example("# file: dags/crm.py"), "daily", "whole", **env)
    daily = found["daily"]
    assert daily["state"] == "success"
    assert set(daily["tasks"]) == {"crm.members", "crm.vouchers"}
    members = daily["tasks"]["crm.members"]["return_value"]
    assert [s["sync"] for s in members["syncs"]] == ["members"]
    assert (members["syncs"][0]["delivered"], members["syncs"][0]["rejected"]) == (2, 1)
    assert members["exit_code"] == 0
    assert members["run_id"]
    vouchers = daily["tasks"]["crm.vouchers"]["return_value"]
    assert vouchers["syncs"][0]["delivered"] == 2
    whole = found["whole"]["tasks"]["crm"]["return_value"]
    assert [s["sync"] for s in whole["syncs"]] == ["members", "vouchers"]


FAILING_DAG = """\
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

from omnisync.airflow import OmnisyncOperator

with DAG("bad", schedule=None, start_date=datetime(2024, 1, 1)) as bad:
    OmnisyncOperator(task_id="crm", spec=str(Path(__file__).parent / "bad" / "crm.yaml"))
"""


def test_a_failed_run_fails_the_task_and_pushes_its_report(
    airflow_home: dict[str, str], sandbox_env: dict[str, str]
) -> None:
    folder = Path(airflow_home["AIRFLOW__CORE__DAGS_FOLDER"]) / "bad"
    folder.mkdir(exist_ok=True)
    bad = "id,name,email\nM1,Ann,nope\nM2,Bo,not-an-email\nM3,Cy,cy@example.com\n"
    write_two_syncs(folder, members=bad).rename(folder / "crm.yaml")
    env = {name: sandbox_env[name] for name in ENV}
    found = dag_test(airflow_home, FAILING_DAG, "bad", **env)["bad"]
    assert found["state"] == "failed"
    task = found["tasks"]["crm"]
    assert task["state"] == "failed"
    assert task["return_value"] is None
    assert task["report"]["exit_code"] == 3
    assert "max_reject_ratio" in task["report"]["error"]
