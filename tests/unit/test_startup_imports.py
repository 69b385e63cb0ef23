"""A fast start, checked by what gets imported (never by time): a CSV-only spec costs no SQL, S3,
Parquet or HTTP library, and checking a valid spec needs neither jsonschema nor structlog
(bench/startup.py measures the time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """\
import sys
sys.argv = ["omnisync", *sys.argv[1:]]
from engine.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("EXIT", code, file=sys.stderr)
print("MODULES", " ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""
HEAVY = {"sqlalchemy", "boto3", "botocore", "pyarrow", "aiohttp"}
# the orchestrator extras, and the Python API that wraps the command: never loaded by the command
ORCHESTRATORS = {"omnisync", "dagster", "dagster_pipes", "airflow"}
# each costs more to import than a CSV-only `omnisync validate` may take in all
SLOW_TO_IMPORT = {"jsonschema", "structlog", "rich", "phonenumbers", "re2"}
CSV_SPEC = """\
version: 1
omnisegment: {base_url: "http://127.0.0.1:9", tid: OA-sandbox, api_key: "${OMNISEGMENT_API_KEY}"}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    mapping: {member_sn: id, email: {from: email, transforms: [trim, lower]}}
"""


def imported_by(*args: str, cwd: Path) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**os.environ, "OMNISEGMENT_API_KEY": "sandbox-api-key"},  # a spec holds no secret
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )
    lines = done.stderr.splitlines()
    exit_line = next(line for line in lines if line.startswith("EXIT "))
    modules = next(line for line in lines if line.startswith("MODULES ")).split()[1:]
    return exit_line.split()[1], set(modules)


@pytest.fixture
def csv_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "csv_only.yaml"
    spec.write_text(CSV_SPEC)
    (tmp_path / "members.csv").write_text("id,email\nM1,ann@example.com\n")
    return spec


def test_validate_on_a_csv_only_spec_imports_no_sql_s3_parquet_or_http(csv_spec: Path) -> None:
    code, modules = imported_by("validate", str(csv_spec), cwd=csv_spec.parent)
    assert code == "0"  # it did validate
    assert modules & HEAVY == set()
    assert modules & (SLOW_TO_IMPORT | {"asyncio"}) == set()
    assert modules & ORCHESTRATORS == set()


def test_help_imports_no_source_library_and_no_http(tmp_path: Path) -> None:
    code, modules = imported_by("--help", cwd=tmp_path)
    assert code == "0"
    assert modules & (HEAVY | SLOW_TO_IMPORT | ORCHESTRATORS) == set()
    assert modules & {"asyncio", "yaml"} == set()  # the commands' summaries, not their modules


def test_validate_loads_no_in_source_screen_nor_state_internals_it_does_not_use(
    csv_spec: Path,
) -> None:
    """Plugins are loaded for their schemas; what only a run (or an in-source sync) uses is not."""
    probe = PROBE.replace(
        'print("MODULES", " ".join(sorted({name.split(".")[0] for name in sys.modules}))',
        'print("MODULES", " ".join(sorted(sys.modules))',
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "validate", str(csv_spec)],
        env={**os.environ, "OMNISEGMENT_API_KEY": "sandbox-api-key"},
        capture_output=True,
        text=True,
        cwd=csv_spec.parent,
        check=False,
        timeout=120,
    )
    assert "EXIT 0" in done.stderr, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("MODULES "))
    modules = set(line.split()[1:])
    unused = {
        "engine.run.in_source",
        "connectors.sql_screen",
        "connectors.sql_screen_dialects",
        "engine.state.s3_digests",
        "engine.state.postgres_lease",
        "engine.outcomes.report",
        "engine.delivery.sender",
    }
    assert modules & unused == set()


def test_import_omnisync_loads_no_orchestrator_and_no_delivery_stack(tmp_path: Path) -> None:
    """The Python API costs what the command costs: Dagster and Airflow load only when their
    module (omnisync.dagster, omnisync.airflow) is imported, the run's libraries when it runs."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, omnisync; print(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    modules = {name.split(".")[0] for name in done.stdout.split()}
    assert "omnisync" in modules
    assert modules & (HEAVY | SLOW_TO_IMPORT | (ORCHESTRATORS - {"omnisync"})) == set()


def test_an_invalid_spec_is_still_explained_by_jsonschema(csv_spec: Path) -> None:
    """The quick check only confirms a valid spec; a wrong one gets jsonschema's full account."""
    csv_spec.write_text(CSV_SPEC.replace("version: 1", "version: 1\nmax_reject_ratio: lots"))
    done = subprocess.run(
        [sys.executable, "-c", "from engine.cli import main; main()", "validate", str(csv_spec)],
        env={**os.environ, "OMNISEGMENT_API_KEY": "sandbox-api-key"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "max_reject_ratio: expected a number, got string 'lots'" in done.stderr


def test_a_spec_using_sql_still_validates_with_its_library(tmp_path: Path) -> None:
    """Lazy, not missing: a SQL source's own schema and checks still run when the spec uses it."""
    spec = tmp_path / "sql.yaml"
    spec.write_text(
        CSV_SPEC.replace(
            "{csv: {path: members.csv}}",
            '{sql: {url: "sqlite:///members.db", query: "select id, email from members"}}',
        )
    )
    code, _modules = imported_by("validate", str(spec), cwd=tmp_path)
    assert code == "0"


def test_a_run_that_sends_nothing_opens_no_http_session(csv_spec: Path) -> None:
    """A dry run (like a rerun where every row is unchanged) sends no request: aiohttp, its TLS
    contexts and its session are made only when the first request leaves."""
    code, modules = imported_by("run", str(csv_spec), "--dry-run", cwd=csv_spec.parent)
    assert code == "0"
    assert "aiohttp" not in modules
