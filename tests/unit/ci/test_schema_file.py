"""The editor schema published in the repository: equal to `omnisync schema`, checked by an
independent validator (check-jsonschema) against configs/ and the invalid specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke_cli

SCHEMA = ROOT / "schema" / "omnisync.schema.json"
INVALID = ROOT / "tests" / "specs" / "invalid"
HEADER = "# yaml-language-server: $schema=../schema/omnisync.schema.json"

# the invalid specs a JSON Schema can say are wrong; the others need the YAML parser's strictness
# (refused before any schema), the semantic checks (duplicate sync names, depends_on)
# or the environment (an unset variable is fine for an editor)
REFUSED_BY_SCHEMA = {
    "bad_rate_limit.yaml",
    "empty_syncs.yaml",
    "missing_mapping.yaml",
    "not_a_mapping.yaml",
    "two_sources.yaml",
    "unknown_endpoint.yaml",
    "unknown_key.yaml",
    "unknown_source.yaml",
    "unknown_transform.yaml",
    "wrong_type.yaml",
    "wrong_version.yaml",
}
REFUSED_BY_YAML = {"bad_yaml_syntax.yaml", "duplicate_key.yaml", "unsafe_yaml_tag.yaml"}
SEMANTIC_ONLY = {
    "depends_on_cycle.yaml",
    "depends_on_unknown.yaml",
    "duplicate_sync_name.yaml",
    "missing_env_var.yaml",
    "state_path_under_a_file.yaml",
}


def _check(*files: Path, schema: Path = SCHEMA) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            str(schema),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_published_schema_is_what_omnisync_schema_prints() -> None:
    """Regenerate with `omnisync schema > schema/omnisync.schema.json` after changing the schema."""
    printed = invoke_cli("schema")

    assert printed.returncode == 0, printed.stderr
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == json.loads(printed.stdout)


def test_every_example_names_the_schema_on_its_first_line() -> None:
    configs = sorted((ROOT / "configs").glob("*.yaml"))

    assert configs
    assert [p.name for p in configs if p.read_text("utf-8").splitlines()[0] != HEADER] == []


def test_check_jsonschema_accepts_every_example() -> None:
    result = _check(*sorted((ROOT / "configs").glob("*.yaml")))

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_invalid_spec_is_accounted_for() -> None:
    """Each file of tests/specs/invalid is listed as refused by the schema, by YAML or semantically."""
    on_disk = {p.name for p in INVALID.glob("*.yaml")}

    assert on_disk == REFUSED_BY_SCHEMA | REFUSED_BY_YAML | SEMANTIC_ONLY


def _refused(output: str) -> set[str]:
    """The files check-jsonschema's report names with a schema error (`file::$.path: ...`)."""
    return {
        Path(line.strip().split("::", 1)[0]).name for line in output.splitlines() if "::$" in line
    }


def test_check_jsonschema_refuses_what_the_schema_can_express() -> None:
    result = _check(*(INVALID / name for name in sorted(REFUSED_BY_SCHEMA | SEMANTIC_ONLY)))

    assert result.returncode == 1, result.stdout + result.stderr
    assert _refused(result.stdout) == REFUSED_BY_SCHEMA  # none of SEMANTIC_ONLY: move it if so


@pytest.mark.parametrize("name", sorted(REFUSED_BY_YAML))
def test_what_yaml_forbids_is_refused_before_the_schema(name: str) -> None:
    result = _check(INVALID / name)

    assert result.returncode == 1
    assert "Failed to parse" in result.stdout + result.stderr


EDITOR_VIEW = """\
version: 1
omnisegment: {environment: "${OMNISEGMENT_ENVIRONMENT:-sandbox}"}
max_reject_ratio: ${MAX_REJECTS}
syncs:
  - name: members
    enabled: "${MEMBERS_ON:-true}"
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping:
      member_sn: id
      email: {from: email, transforms: [trim, {truncate: 100}]}
    delivery: {batch_size: "${BATCH}", rate_limit: "${RATE}", retry: {unavailable: {interval: "${WAIT}"}}}
"""


def test_a_reference_stands_where_the_environment_may_give_a_value(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(EDITOR_VIEW, encoding="utf-8")

    result = _check(spec)

    assert result.returncode == 0, result.stdout


def test_the_schema_knows_transform_names_and_arguments(tmp_path: Path) -> None:
    calls = {
        "misspelt.yaml": "[lowr]",  # no such transform
        "bad_args.yaml": "[{truncate: many}]",  # truncate takes a length
        "no_args.yaml": "[truncate]",  # ... and cannot go without one
        "args_for_none.yaml": "[{lower: {x: 1}}]",  # lower takes none
        "good.yaml": "[{cast: {to: bool, truthy: [Y]}}, {default: 0}]",
    }
    for name, call in calls.items():
        text = EDITOR_VIEW.replace("[trim, {truncate: 100}]", call)
        (tmp_path / name).write_text(text, encoding="utf-8")

    result = _check(*(tmp_path / name for name in calls))

    assert _refused(result.stdout) == set(calls) - {"good.yaml"}, result.stdout


def test_a_number_that_is_neither_a_number_nor_a_reference_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(EDITOR_VIEW.replace('"${BATCH}"', '"$BATCH"'), encoding="utf-8")

    result = _check(spec)

    assert result.returncode == 1
    assert "batch_size" in result.stdout


# per endpoint (the destination's sync rules): options, mapping keys and the batch cap
PER_ENDPOINT = {
    "merge_key_member_id.yaml": (
        "{endpoint: audience}",
        "{endpoint: audience, options: {merge_key: member_id}}",
    ),
    "tag_mode_merge.yaml": (
        "{endpoint: audience}",
        "{endpoint: audience, options: {tag_mode: merge}}",
    ),
    "option_of_another_endpoint.yaml": (
        "{endpoint: audience}",
        "{endpoint: audience, options: {is_anonymous: true}}",
    ),
    "undocumented_field.yaml": ("member_sn: id\n", "member_sn: id\n      member_id: id\n"),
}
VOUCHERS = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: vouchers
    source: {csv: {path: vouchers.csv}}
    destination: {endpoint: gift_voucher}
    mapping:
      voucher_id: voucher_id
      member_sn: member
      voucher_type: type
      amount: {from: amount, transforms: [{cast: int}]}
      valid_from: valid_from
      valid_util: valid_until
"""


def test_the_schema_knows_each_endpoint_s_options_fields_and_cap(tmp_path: Path) -> None:
    """`merge_key: member_id`, `tag_mode: merge`, a misspelt `valid_until` passed the editor
    schema: it knew no option or field of any endpoint."""
    base = EDITOR_VIEW.replace('delivery: {batch_size: "${BATCH}",', "delivery: {batch_size: 10,")
    files = {name: base.replace(old, new, 1) for name, (old, new) in PER_ENDPOINT.items()}
    files["batch_past_the_cap.yaml"] = base.replace("batch_size: 10,", "batch_size: 500,")
    files["valid_until_misspelt.yaml"] = VOUCHERS.replace(
        "valid_util: valid_until", "valid_until: valid_until"
    )
    files["vouchers.yaml"] = VOUCHERS
    files["custom_field_declared.yaml"] = base.replace(
        "{endpoint: audience}", "{endpoint: audience, custom_fields: [member_id]}"
    ).replace("member_sn: id\n", "member_sn: id\n      member_id: id\n")
    files["options_from_the_environment.yaml"] = base.replace(
        "{endpoint: audience}", '{endpoint: audience, options: {ignore_empty_value: "${KEEP}"}}'
    )
    for name, text in files.items():
        assert name == "vouchers.yaml" or text != base, name  # each one changed something
        (tmp_path / name).write_text(text, encoding="utf-8")

    result = _check(*(tmp_path / name for name in files))

    good = {"vouchers.yaml", "custom_field_declared.yaml", "options_from_the_environment.yaml"}
    assert _refused(result.stdout) == set(files) - good, result.stdout
