"""One small run under each way in: the command, the Python API, Dagster (in-process and through
Pipes) and Airflow (`dag.test()`), for docs/orchestrators.md's figures.

    python bench/orchestrators.py            # 2,000 rows a sync, 3 runs each
    python bench/orchestrators.py -n 10000 --runs 5

The spec has two syncs, `members` (audience) and `vouchers` (gift vouchers, depends_on members),
read from CSV files and sent to a sandbox in its own process (no rate limit on its side, 1,000
requests/s on the spec's). Each way runs in a new Python process, as a scheduler starts one:
the wall time is that process's, from its start to its exit; "run" is the time the syncs took
(from the first start to the last finish, from the report each way returns). Dagster and Airflow
need the extras installed (`[dagster]`, `[airflow]`); a way whose library is missing is skipped.
Airflow's database is migrated once, before the timed runs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import Sandbox

SPEC = """\
version: 1
omnisegment: {{base_url: "{url}", tid: OA-sandbox, api_key: "${{OMNISEGMENT_API_KEY}}"}}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {{rate_limit: 1000/s}}
    mapping: {{member_sn: id, name: name, email: email}}
  - name: vouchers
    depends_on: [members]
    source: {{csv: {{path: vouchers.csv}}}}
    destination: {{endpoint: gift_voucher}}
    delivery: {{rate_limit: 1000/s}}
    mapping:
      voucher_id: voucher_id
      member_sn: member
      voucher_type: {{const: welcome}}
      valid_from: {{const: "2024-05-01"}}
      valid_util: {{const: "2025-05-01"}}
      amount: {{const: 100}}
      is_redeemed: {{const: false}}
"""

# each prints "RUN <seconds the syncs took>" from the report it got back
RUN_S = """
def run_s(syncs):
    return sum(s["elapsed_s"] for s in syncs)
"""
WAYS = {
    "command (omnisync run)": (
        None,
        "import json, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-c', 'from engine.cli import main; main()', "
        "'run', 'crm.yaml', '--report', 'report.json'], capture_output=True)\n"
        "assert done.returncode == 0, done.stderr\n"
        "print('RUN', run_s(json.load(open('report.json'))['syncs']))\n",
    ),
    "Python API (omnisync.run)": (
        None,
        "import omnisync\n"
        "report = omnisync.run('crm.yaml').raise_for_exit()\n"
        "print('RUN', run_s(report.as_dict()['syncs']))\n",
    ),
    "Dagster, in-process": ("dagster", "PIPES = False\n"),
    "Dagster, through Pipes": ("dagster", "PIPES = True\n"),
    "Airflow 3, dag.test()": ("airflow", None),
}
DAGSTER = """
import dagster as dg
from omnisync.dagster import omnisync_assets
defs = dg.Definitions(assets=[omnisync_assets('crm.yaml', pipes=PIPES)])
with dg.DagsterInstance.ephemeral() as instance:
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
assert result.success
elapsed = [
    {"elapsed_s": e.event_specific_data.materialization.metadata["elapsed_s"].value}
    for e in result.get_asset_materialization_events()
]
print('RUN', run_s(elapsed))
"""
AIRFLOW_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from omnisync.airflow import OmnisyncOperator
with DAG("crm", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    OmnisyncOperator(task_id="crm", spec="{spec}")
"""
AIRFLOW = """
import runpy
dag = runpy.run_path('{dag}')['dag']
run = dag.test()
(ti,) = run.get_task_instances()
print('RUN', run_s(ti.xcom_pull(task_ids='crm')['syncs']))
"""


def write_inputs(work: Path, rows: int) -> None:
    with (work / "members.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email"])
        writer.writerows([f"M{i:08d}", f"member {i}", f"m{i}@example.com"] for i in range(rows))
    with (work / "vouchers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["voucher_id", "member"])
        writer.writerows([f"V{i:08d}", f"M{i:08d}"] for i in range(rows))


def airflow_env(work: Path) -> dict[str, str]:
    home = work / "airflow"
    (home / "dags").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    dag = home / "dags" / "crm.py"
    dag.write_text(AIRFLOW_DAG.format(spec=work / "crm.yaml"))
    return env


def timed(code: str, work: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall s of the process, s the syncs took) for one run of `code` in a new process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN_S + code], cwd=work, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    line = next((x for x in done.stdout.splitlines() if x.startswith("RUN ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, float(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--rows", type=int, default=2000, help="rows a sync")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "OMNISEGMENT_API_KEY": "sandbox-api-key"}  # secrets never in specs
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            write_inputs(work, args.rows)
            (work / "crm.yaml").write_text(SPEC.format(url=sandbox.url))
            print(f"two syncs of {args.rows:,} rows each, median of {args.runs} runs")
            print(f"{'under':<28}{'wall s':>8}{'run s':>8}")
            for name, (library, code) in WAYS.items():
                if library is not None and importlib.util.find_spec(library) is None:
                    print(f"{name:<28}  skipped: {library} is not installed")
                    continue
                way_env = env
                if library == "airflow":
                    way_env = {**env, **airflow_env(work)}
                    code = AIRFLOW.format(dag=work / "airflow" / "dags" / "crm.py")
                elif library == "dagster":
                    code = f"{code}{DAGSTER}"
                assert code is not None
                samples = [timed(code, work, way_env) for _ in range(args.runs)]
                wall = statistics.median(s[0] for s in samples)
                run = statistics.median(s[1] for s in samples)
                print(f"{name:<28}{wall:>8.2f}{run:>8.2f}", flush=True)
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
