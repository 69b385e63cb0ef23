"""dbt's own manifest.json and run_results.json (tests/dbt_shop, written by a real dbt run) name the
relation a sql source reads and choose which syncs `run --after-dbt` runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import omnisync
from tests.conftest import ROOT, RunningSandbox, require_service, run_cli
from tests.sandbox_specs import sandbox_spec

pytestmark = pytest.mark.services
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SHOP = ROOT / "tests" / "dbt_shop"


def _sync(name: str, ref: str, extra: str = "") -> str:
    return f"""\
  - name: {name}
    source: {{sql: {{url: "{URL}", dbt: {{ref: {ref}}}}}}}
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    mapping: {{member_sn: id, name: name, email: email}}
{extra}"""


SPEC = sandbox_spec(
    _sync("customers", "customers"),
    _sync("orders", "orders"),
    _sync("order_totals", "order_totals"),
    _sync("fans", "customers", "    depends_on: [orders]\n"),
    """\
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    mapping: {member_sn: id}
""",
)


@pytest.fixture(scope="module")
def dim_customers() -> Iterator[None]:
    """dbt_shop.dim_customers, built with the model's own SQL, as `dbt run` built it."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import sqlalchemy as sa

    engine = sa.create_engine(URL)
    model = (SHOP / "models" / "customers.sql").read_text()
    with engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists dbt_shop cascade"))
        conn.execute(sa.text("create schema dbt_shop"))
        conn.execute(sa.text(f"create table dbt_shop.dim_customers as {model}"))
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists dbt_shop cascade"))
    engine.dispose()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A spec beside the dbt project's target/, as a user keeps them."""
    shutil.copytree(SHOP / "target", tmp_path / "target")
    (tmp_path / "members.csv").write_text("id\nM1\n")
    (tmp_path / "sync.yaml").write_text(SPEC)
    return tmp_path


def test_after_dbt_runs_only_the_syncs_whose_model_succeeded(
    project: Path, dim_customers: None, sandbox_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    done = run_cli(
        "run",
        "sync.yaml",
        "--after-dbt",
        "target/run_results.json",
        "--report",
        "report.json",
        env=sandbox_env,
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((project / "report.json").read_text())
    stopped = {s["sync"]: s["stopped"] for s in report["syncs"]}
    assert stopped["customers"] is None
    assert stopped["orders"].startswith("skipped: dbt model orders ended with status error: ")
    assert "Database Error in model orders" in stopped["orders"]
    assert stopped["order_totals"] == "skipped: dbt model order_totals ended with status skipped"
    assert stopped["fans"] == "skipped: it depends on orders, which was skipped"
    assert stopped["members"].startswith("skipped: it reads no dbt model")
    assert all(s["exit_code"] == 0 for s in report["syncs"])
    customers = next(s for s in report["syncs"] if s["sync"] == "customers")
    assert customers["delivered"] == 2  # read from dbt_shop.dim_customers: the model's alias
    assert "orders: skipped: dbt model orders ended with status error" in done.stdout
    assert sorted(sandbox.records("audience")) == ["C1", "C2"]


def test_the_api_takes_after_dbt_too(
    project: Path, dim_customers: None, sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SANDBOX_URL", "OMNISEGMENT_TID", "OMNISEGMENT_API_KEY"):
        monkeypatch.setenv(name, sandbox_env[name])
    report = omnisync.run(project / "sync.yaml", after_dbt=project / "target/run_results.json")
    assert report.ok
    assert [s.sync for s in report.syncs if s.ran] == ["customers"]
    assert report.sync("orders").skipped
    assert omnisync.validate(project / "sync.yaml").sync("customers").dbt_model == "customers"


def test_validate_names_a_missing_model_at_its_line(
    project: Path, dim_customers: None, sandbox_env: dict[str, str]
) -> None:
    spec = project / "sync.yaml"
    spec.write_text(SPEC.replace("ref: customers}", "ref: custmers}", 1))
    done = run_cli("validate", "sync.yaml", env=sandbox_env, cwd=project)
    assert done.returncode == 2
    line = 1 + next(i for i, x in enumerate(spec.read_text().splitlines()) if "custmers" in x)
    assert (
        f"sync.yaml:{line}:89 syncs[0].source.sql.dbt.ref: no dbt model 'custmers' in "
        "target/manifest.json (did you mean 'customers'?)"
    ) in done.stderr
    offline = run_cli("validate", "--offline", "sync.yaml", env=sandbox_env, cwd=project)
    assert offline.returncode == 0, offline.stderr  # the spec alone: no manifest read


def test_validate_says_the_manifest_is_missing(project: Path, sandbox_env: dict[str, str]) -> None:
    shutil.rmtree(project / "target")
    done = run_cli("validate", "sync.yaml", env=sandbox_env, cwd=project)
    assert done.returncode == 2
    assert "syncs[0].source.sql.dbt: dbt manifest target/manifest.json not found" in done.stderr


def test_a_run_results_file_dbt_did_not_write_is_refused(
    project: Path, sandbox_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    (project / "other.json").write_text('{"nodes": {}}')
    done = run_cli("run", "sync.yaml", "--after-dbt", "other.json", env=sandbox_env, cwd=project)
    assert done.returncode == 1
    assert "other.json: not a dbt run_results.json" in done.stderr
    assert not sandbox.records("audience")
