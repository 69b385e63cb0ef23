"""Broken specs: `omnisync validate` exits 2 and names file, line, column, path and the problem."""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT, invoke_cli

INVALID = ROOT / "tests" / "specs" / "invalid"

# (file, every line `omnisync validate` must print, in order)
CASES = [
    (
        "bad_yaml_syntax.yaml",
        ["bad_yaml_syntax.yaml:5:5: invalid YAML: ", "expected ',' or '}'"],  # libyaml's words
    ),
    (
        "unknown_endpoint.yaml",
        [
            "unknown_endpoint.yaml:6:29 syncs[0].destination.endpoint: 'audiance' is not one of "
            "'audience'",
            "(did you mean 'audience'?)",
        ],
    ),
    (
        "wrong_type.yaml",
        [
            "wrong_type.yaml:8:28 syncs[0].delivery.batch_size: expected an integer, got string 'fifty'"
        ],
    ),
    (
        "unknown_key.yaml",
        [
            "unknown_key.yaml:7:5 syncs[0].mappings: unknown key 'mappings' (did you mean 'mapping'?)"
        ],
    ),
    ("empty_syncs.yaml", ["empty_syncs.yaml:3:8 syncs: must have at least 1 item"]),
    (
        "unknown_source.yaml",
        [
            "unknown_source.yaml:5:14 syncs[0].source.cvs: unknown source type 'cvs' "
            "(did you mean 'csv'?); installed: csv"
        ],
    ),
    (
        "unknown_transform.yaml",
        [
            "unknown_transform.yaml:9:47 syncs[0].mapping.email.transforms[1]: unknown transform "
            "'lowr' (did you mean 'lower'?)"
        ],
    ),
    ("missing_mapping.yaml", ["missing_mapping.yaml:4:5 syncs[0]: missing required key 'mapping'"]),
    (
        "duplicate_sync_name.yaml",
        [
            "duplicate_sync_name.yaml:8:11 syncs[1].name: duplicate sync name 'members' "
            "(also syncs[0])"
        ],
    ),
    ("wrong_version.yaml", ["wrong_version.yaml:1:10 version: must be 1, got 2"]),
    (
        "duplicate_key.yaml",
        ["duplicate_key.yaml:9:7 syncs[0].mapping.member_sn: duplicate key 'member_sn'"],
    ),
    ("not_a_mapping.yaml", ["not_a_mapping.yaml:1:1 (top level): expected a mapping, got list"]),
    (
        "bad_rate_limit.yaml",
        [
            "bad_rate_limit.yaml:8:28 syncs[0].delivery.rate_limit: '10/hour' is not valid: "
            "a rate such as 10/s or 600/min"
        ],
    ),
    (
        "unsafe_yaml_tag.yaml",
        [
            "unsafe_yaml_tag.yaml:2:14 omnisegment: YAML tag "
            "'!!python/object/apply:os.system' is not allowed"
        ],
    ),
    (
        "two_sources.yaml",
        ["two_sources.yaml:5:13 syncs[0].source: must have exactly one key, got 2"],
    ),
    (
        "state_path_under_a_file.yaml",
        [
            "state_path_under_a_file.yaml:3:15 state.path: '/dev/null/state.db' cannot be "
            "created: /dev/null is not a directory"
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "expected"), CASES, ids=[c[0].removesuffix(".yaml") for c in CASES]
)
def test_validate_names_the_problem(name: str, expected: list[str]) -> None:
    """Each message carries file:line:col and the JSON path; no traceback reaches the user."""
    env = {k: v for k, v in os.environ.items() if k != "OMNISYNC_TEST_UNSET_KEY"}
    result = invoke_cli("validate", name, env=env, cwd=INVALID)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr


def test_an_unset_variable_is_an_error_with_require_env_and_a_note_without() -> None:
    """`run` and `validate --require-env` need every variable; plain `validate` (CI without
    secrets) names it and skips the checks of its value."""
    env = {k: v for k, v in os.environ.items() if k != "OMNISYNC_TEST_UNSET_KEY"}
    strict = invoke_cli("validate", "--require-env", "missing_env_var.yaml", env=env, cwd=INVALID)
    offline = invoke_cli("validate", "missing_env_var.yaml", env=env, cwd=INVALID)

    assert strict.returncode == 2
    assert strict.stderr == (
        "missing_env_var.yaml:5:12 omnisegment.api_key: environment variable "
        "OMNISYNC_TEST_UNSET_KEY is not set\n"
    )
    assert offline.returncode == 0
    assert offline.stdout == (
        "missing_env_var.yaml:5:12 omnisegment.api_key: note: environment variable "
        "OMNISYNC_TEST_UNSET_KEY not set; checks of this value skipped\n"
        "missing_env_var.yaml: ok (1 sync)\n"
    )


def test_every_error_of_a_file_is_reported_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Several problems in one file: all listed, top to bottom."""
    spec = tmp_path / "many.yaml"
    spec.write_text(
        "version: 1\n"
        "omnisegment: {environment: sandbox}\n"
        "syncs:\n"
        "  - name: m\n"
        "    sourse: {csv: {path: m.csv}}\n"
        "    destination: {endpoint: purchases}\n"
        "    mapping: {member_sn: id}\n"
        "    delivery: {concurrency: 0}\n",
        encoding="utf-8",
    )
    result = invoke_cli("validate", str(spec))

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert [line.split(" ", 2)[1] for line in lines] == [
        "syncs[0]:",
        "syncs[0].sourse:",
        "syncs[0].destination.endpoint:",
        "syncs[0].delivery.concurrency:",
    ]


def test_valid_specs_in_configs_validate() -> None:
    """Every example spec shipped in configs/ is valid as it stands."""
    specs = sorted(str(p) for p in (ROOT / "configs").glob("*.yaml"))
    result = invoke_cli("validate", *specs)

    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok (") == len(specs)
