"""CI checks a pull request without secrets: an unset ${VAR} is a note for validate, test and
plan --offline; numbers and booleans may come from ${VAR}; validate speaks GitHub's annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile import load_spec
from tests.conftest import invoke_cli

PRODUCTION = """\
version: 1
omnisegment:
  environment: tw
  tid: "${CI_TEST_TID}"
  api_key: ${CI_TEST_API_KEY}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping:
      member_sn: id
      email: {from: email, transforms: [trim, lower]}
    tests:
      - name: email is cleaned
        row: {id: M1, email: " A@Example.COM "}
        expect: {member_sn: M1, email: a@example.com}
"""

UNSET = ("CI_TEST_TID", "CI_TEST_API_KEY", "CI_TEST_DB_URL", "CI_TEST_BATCH", "CI_TEST_INTERVAL")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    return {**env, **values}


def _spec(tmp_path: Path, text: str, name: str = "sync.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (tmp_path / "members.csv").write_text("id,email\nM1,a@example.com\n", encoding="utf-8")
    return path


def test_validate_without_secrets_passes_and_names_each_unset_variable(tmp_path: Path) -> None:
    spec = _spec(tmp_path, PRODUCTION)

    result = invoke_cli("validate", str(spec), env=_env())

    assert result.returncode == 0, result.stderr
    assert f"{spec}: ok (1 sync)" in result.stdout
    assert (
        f"{spec}:4:8 omnisegment.tid: note: environment variable CI_TEST_TID not set; "
        "checks of this value skipped"
    ) in result.stdout
    assert f"{spec}:5:12 omnisegment.api_key: note: environment variable CI_TEST_API_KEY" in (
        result.stdout
    )


def test_validate_require_env_makes_an_unset_variable_an_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path, PRODUCTION)

    result = invoke_cli("validate", "--require-env", str(spec), env=_env())

    assert result.returncode == 2
    assert f"{spec}:4:8 omnisegment.tid: environment variable CI_TEST_TID is not set" in (
        result.stderr
    )


def test_run_still_refuses_an_unset_variable(tmp_path: Path) -> None:
    spec = _spec(tmp_path, PRODUCTION)

    result = invoke_cli("run", str(spec), env=_env())

    assert result.returncode == 2
    assert "environment variable CI_TEST_API_KEY is not set" in result.stderr


def test_a_wrong_value_beside_an_unset_variable_is_still_an_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path, PRODUCTION.replace("endpoint: audience", "endpoint: audiance"))

    result = invoke_cli("validate", str(spec), env=_env())

    assert result.returncode == 2
    assert "'audiance' is not one of" in result.stderr
    assert "CI_TEST_API_KEY not set" in result.stdout


def test_mapping_tests_run_without_secrets(tmp_path: Path) -> None:
    spec = _spec(tmp_path, PRODUCTION)

    result = invoke_cli("test", str(spec), env=_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  members: email is cleaned" in result.stdout
    assert "CI_TEST_API_KEY not set" in result.stderr


def test_mapping_tests_of_several_specs_in_one_report(tmp_path: Path) -> None:
    """`omnisync test` runs the mapping tests of two specs with one tally, and a failure exits 4."""
    first = _spec(tmp_path, PRODUCTION, "a.yaml")
    broken = PRODUCTION.replace("email: a@example.com}", "email: A@example.com}")
    second = _spec(tmp_path, broken, "b.yaml")

    result = invoke_cli("test", str(first), str(second), env=_env())

    assert result.returncode == 4
    assert f"PASS  {first}: members: email is cleaned" in result.stdout
    assert f"FAIL  {second}: members: email is cleaned" in result.stdout
    assert "1 passed, 1 failed" in result.stdout


SQL_AND_CSV = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: from_db
    source: {sql: {url: "${CI_TEST_DB_URL}", query: "SELECT id FROM members"}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
  - name: from_file
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
"""


def test_plan_offline_previews_what_it_can_and_names_what_it_skips(tmp_path: Path) -> None:
    spec = _spec(tmp_path, SQL_AND_CSV)

    result = invoke_cli("plan", "--offline", str(spec), env=_env())

    assert result.returncode == 0, result.stderr
    assert "from_db: skipped: its source needs CI_TEST_DB_URL (not set)" in result.stdout
    assert "== from_file" in result.stdout
    assert "from_file: 1 rows: would send 1" in result.stdout
    plain = invoke_cli("plan", str(spec), env=_env())
    assert plain.returncode == 2
    assert "CI_TEST_DB_URL is not set" in plain.stderr


NUMBERS = """\
version: 1
omnisegment: {environment: sandbox}
max_reject_ratio: ${CI_TEST_RATIO:-0.25}
syncs:
  - name: members
    enabled: "${CI_TEST_ENABLED:-true}"
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
    delivery:
      batch_size: "${CI_TEST_BATCH}"
      retry: {unavailable: {interval: "${CI_TEST_INTERVAL}", jitter: "${CI_TEST_JITTER:-false}"}}
"""


def test_numbers_and_booleans_may_come_from_the_environment(tmp_path: Path) -> None:
    spec_file = _spec(tmp_path, NUMBERS)

    spec = load_spec(spec_file, environ={"CI_TEST_BATCH": "20", "CI_TEST_INTERVAL": "1.5"})

    (sync,) = spec.syncs
    assert sync.delivery.batch_size == 20
    assert sync.delivery.retry == {"unavailable": {"interval": 1.5, "jitter": False}}
    assert sync.enabled is True
    assert sync.max_reject_ratio == 0.25


def test_a_variable_that_is_not_a_number_is_refused_where_a_number_is_wanted(
    tmp_path: Path,
) -> None:
    spec_file = _spec(tmp_path, NUMBERS)

    with pytest.raises(SpecError) as caught:
        load_spec(spec_file, environ={"CI_TEST_BATCH": "fifty", "CI_TEST_INTERVAL": "1"})

    assert caught.value.lines == [
        f"{spec_file}:11:19 syncs[0].delivery.batch_size: expected an integer, got string 'fifty'"
    ]


def test_unset_numbers_offline_are_notes_and_leave_the_default(tmp_path: Path) -> None:
    spec_file = _spec(tmp_path, NUMBERS)

    spec = load_spec(spec_file, environ={}, allow_unset=True)

    assert spec.syncs[0].delivery.batch_size is None
    assert [n.split(" ", 2)[1] for n in spec.notes] == [
        "syncs[0].delivery.batch_size:",
        "syncs[0].delivery.retry.unavailable.interval:",
    ]


def test_a_reference_in_a_flow_mapping_gets_a_hint_to_quote_it(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        "version: 1\nomnisegment: {environment: sandbox}\nsyncs:\n  - name: m\n"
        "    source: {csv: {path: ${CI_TEST_FILE:-m.csv}}}\n"
        "    destination: {endpoint: audience}\n    mapping: {member_sn: id}\n",
    )

    result = invoke_cli("validate", str(spec), env=_env())

    assert result.returncode == 2
    assert 'hint: quote a ${VAR} inside {...} or [...]: "${VAR:-default}"' in result.stderr


BROKEN = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
    delivery: {batch_size: fifty, rate_limit: "10/hour"}
"""


def test_validate_format_github_annotates_the_diff(tmp_path: Path) -> None:
    bad = _spec(tmp_path, BROKEN, "bad.yaml")
    good = _spec(tmp_path, PRODUCTION, "good.yaml")

    result = invoke_cli("validate", "--format", "github", str(bad), str(good), env=_env())

    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"::error file={bad},line=8,col=28,title=omnisync validate::"
        "syncs[0].delivery.batch_size: expected an integer, got string 'fifty'"
    )
    assert lines[1].startswith(f"::error file={bad},line=8,col=47,title=omnisync validate::")
    assert lines[1].endswith("'10/hour' is not valid: a rate such as 10/s or 600/min")
    assert lines[2] == (
        f"::notice file={good},line=4,col=8,title=omnisync validate::omnisegment.tid: note: "
        "environment variable CI_TEST_TID not set; checks of this value skipped"
    )
    assert f"{good}: ok (1 sync)" in lines


def test_github_annotations_escape_what_the_runner_would_misread(tmp_path: Path) -> None:
    odd = tmp_path / "a,b:c.yaml"
    odd.write_text("version: 1\nsyncs: []\n", encoding="utf-8")

    result = invoke_cli("validate", "--format", "github", str(odd), env=_env())

    escaped = str(odd).replace(":", "%3A").replace(",", "%2C")
    assert result.stdout.splitlines()[0] == (
        f"::error file={escaped},line=2,col=8,title=omnisync validate::"
        "syncs: must have at least 1 item"
    )


def test_validate_format_json(tmp_path: Path) -> None:
    """`validate --format json` reports every file, a missing one too, with located errors and notes."""
    bad = _spec(tmp_path, BROKEN, "bad.yaml")
    good = _spec(tmp_path, PRODUCTION, "good.yaml")
    missing = tmp_path / "missing.yaml"

    result = invoke_cli(
        "validate", "--format", "json", str(bad), str(good), str(missing), env=_env()
    )

    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    first, second, third = report["files"]
    assert first["ok"] is False
    assert first["errors"][0] == {
        "line": 8,
        "column": 28,
        "message": "syncs[0].delivery.batch_size: expected an integer, got string 'fifty'",
    }
    assert second == {
        "file": str(good),
        "ok": True,
        "syncs": 1,
        "errors": [],
        "warnings": [],
        "notes": [
            {
                "line": 4,
                "column": 8,
                "message": "omnisegment.tid: note: environment variable CI_TEST_TID not set; "
                "checks of this value skipped",
            },
            {
                "line": 5,
                "column": 12,
                "message": "omnisegment.api_key: note: environment variable CI_TEST_API_KEY "
                "not set; checks of this value skipped",
            },
        ],
    }
    assert third["errors"] == [{"line": None, "column": None, "message": "no such file"}]


TOP_LEVEL_RATIOS = PRODUCTION.replace(
    "syncs:\n",
    "max_reject_ratio: ${CI_TEST_MAX_REJECTS}\nmin_rows_for_reject_ratio: ${CI_TEST_MIN_ROWS}\n"
    "syncs:\n",
    1,
)


@pytest.mark.parametrize("command", ["validate", "test"])
def test_unset_top_level_ratios_are_notes_not_an_internal_error(
    tmp_path: Path, command: str
) -> None:
    """Top-level max_reject_ratio / min_rows_for_reject_ratio from an unset variable are left at
    their defaults offline, as they are under `defaults:` (they ended in internal error 70)."""
    spec = _spec(tmp_path, TOP_LEVEL_RATIOS)

    result = invoke_cli(command, str(spec), env=_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "internal error" not in result.stderr
    out = result.stdout + result.stderr
    assert f"{spec}:6:19 max_reject_ratio: note: environment variable CI_TEST_MAX_REJECTS" in out
    assert f"{spec}:7:28 min_rows_for_reject_ratio: note: environment variable CI_TEST_MIN" in out


def test_an_endpoint_from_an_unset_variable_stops_test_at_its_line(tmp_path: Path) -> None:
    """`endpoint: ${X}` unset: validate notes it; test cannot judge rows without it and says so
    at the line, exit 2 (it ended in internal error 70)."""
    spec = _spec(
        tmp_path, PRODUCTION.replace("{endpoint: audience}", '{endpoint: "${CI_TEST_EP}"}')
    )

    checked = invoke_cli("validate", str(spec), env=_env())
    tested = invoke_cli("test", str(spec), env=_env())

    assert checked.returncode == 0, checked.stderr
    assert tested.returncode == 2, tested.stdout + tested.stderr
    assert (
        f"{spec}:9:29 syncs[0].destination.endpoint: needs CI_TEST_EP, which is not set: "
        "set it (or write the value in the spec) to map and check rows"
    ) in tested.stderr


def test_a_whole_block_from_an_unset_variable_is_an_error_offline(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "version: 1\nomnisegment: {environment: sandbox}\nsyncs: ${CI_TEST_X}\n")

    result = invoke_cli("validate", str(spec), env=_env())

    assert result.returncode == 2
    assert f"{spec}:3:8 syncs: a ${{VAR}} cannot stand for a whole block" in result.stderr


def test_a_boolean_option_of_the_destination_may_come_from_the_environment(
    tmp_path: Path,
) -> None:
    """`ignore_empty_value: ${KEEP}` with KEEP=true is the boolean the option wants (it was
    refused as the text 'true')."""
    text = PRODUCTION.replace(
        "{endpoint: audience}", '{endpoint: audience, options: {ignore_empty_value: "${CI_KEEP}"}}'
    )
    spec_file = _spec(tmp_path, text)
    env = {"CI_TEST_TID": "OA-1", "CI_TEST_API_KEY": "key-1234"}

    spec = load_spec(spec_file, environ={**env, "CI_KEEP": "true"})

    assert spec.syncs[0].destination["options"] == {"ignore_empty_value": True}
    with pytest.raises(SpecError, match="ignore_empty_value"):
        load_spec(spec_file, environ={**env, "CI_KEEP": "maybe"})
