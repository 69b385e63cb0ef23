"""Specs are read by YAML 1.2's core schema: `yes`/`no`/`on`/`off` are text, `0123` is 123 and
`12:30` is text; where YAML 1.1 read a value otherwise, `validate` warns at its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile import load_spec
from engine.specfile.interpolate import Interpolator
from engine.specfile.yaml_loader import load_yaml
from tests.conftest import invoke_cli

SPEC = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, custom_fields: [subscribed, branch, opens_at]}
    mapping:
      member_sn: id
      subscribed: {from: answer, transforms: [{map: {values: {yes: Y, no: N}}}]}
      branch: {const: 0123}
      opens_at: {const: 12:30}
    tests:
      - row: {id: M1, answer: "yes"}
        expect: {member_sn: M1, subscribed: Y, branch: 123, opens_at: "12:30"}
"""


def _spec(tmp_path: Path, text: str = SPEC) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "members.csv").write_text("id,answer\nM1,yes\n", encoding="utf-8")
    return path


def _data(tmp_path: Path, text: str) -> object:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path, Interpolator({})).data


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("OFF", "OFF"),
        ("0123", 123),
        ("0o17", 15),
        ("0x1F", 31),
        ("12:30", "12:30"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("1e3", 1000.0),
        ("true", True),
        ("False", False),
        ("~", None),
        ("2024-01-02", "2024-01-02"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(
    tmp_path: Path, written: str, read: object
) -> None:
    data = _data(tmp_path, f"value: {written}\n{written}: key\n")

    assert data == {"value": read, str(read): "key"}


def test_yes_and_no_map_as_text_so_the_mapping_test_passes(tmp_path: Path) -> None:
    """Under YAML 1.1 the map's keys were booleans: every 'yes' row was rejected."""
    result = invoke_cli("test", str(_spec(tmp_path)))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout


def test_validate_warns_at_each_value_yaml_1_1_read_otherwise(tmp_path: Path) -> None:
    spec = _spec(tmp_path)

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 0, result.stderr
    assert f"{spec}: ok (1 sync)" in result.stdout
    assert result.stderr.splitlines() == [
        f"{spec}:9:63 syncs[0].mapping.subscribed.transforms[0].map.values.yes: warning: the key "
        "yes is the text 'yes' (YAML 1.2; YAML 1.1 read it as true): write true if a boolean is "
        "meant, or quote it ('yes') to say so",
        f"{spec}:9:71 syncs[0].mapping.subscribed.transforms[0].map.values.no: warning: the key "
        "no is the text 'no' (YAML 1.2; YAML 1.1 read it as false): write false if a boolean is "
        "meant, or quote it ('no') to say so",
        f"{spec}:10:23 syncs[0].mapping.branch.const: warning: 0123 is the number 123 (YAML 1.2; "
        "YAML 1.1 read it as 83): quote it ('0123') if the text is meant",
        f"{spec}:11:25 syncs[0].mapping.opens_at.const: warning: 12:30 is the text '12:30' "
        "(YAML 1.2; YAML 1.1 read it as 750): quote it ('12:30') to say so",
    ]


def test_a_quoted_or_unambiguous_value_gets_no_warning(tmp_path: Path) -> None:
    text = (
        SPEC.replace("{yes: Y, no: N}", "{'yes': Y, \"no\": N}")
        .replace("{const: 0123}", "{const: '0123'}")
        .replace("{const: 12:30}", '{const: "12:30"}')
    )
    spec = _spec(tmp_path, text.replace("branch: 123", "branch: '0123'"))

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 0
    assert result.stderr == ""


def test_warnings_in_json_and_github_formats(tmp_path: Path) -> None:
    spec = _spec(tmp_path)

    report = json.loads(invoke_cli("validate", "--format", "json", str(spec)).stdout)
    github = invoke_cli("validate", "--format", "github", str(spec)).stdout

    (checked,) = report["files"]
    assert checked["ok"] is True
    assert [(w["line"], w["column"]) for w in checked["warnings"]] == [
        (9, 63),
        (9, 71),
        (10, 23),
        (11, 25),
    ]
    assert f"::warning file={spec},line=10,col=23,title=omnisync validate::" in github


def test_an_invalid_spec_still_shows_its_warnings(tmp_path: Path) -> None:
    spec = _spec(tmp_path, SPEC.replace("version: 1", "version: 1\nmax_reject_ratio: lots"))

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 2
    assert "max_reject_ratio: expected a number" in result.stderr
    assert "warning: 0123 is the number 123" in result.stderr


def test_a_boolean_from_the_environment_is_read_by_yaml_1_2_too(tmp_path: Path) -> None:
    """`enabled: ${ON}` with ON=yes is not true; with ON=true it is."""
    spec = _spec(
        tmp_path, SPEC.replace("  - name: members\n", "  - name: members\n    enabled: ${ON}\n")
    )

    assert load_spec(spec, environ={"ON": "true"}).syncs[0].enabled is True
    with pytest.raises(SpecError, match=r"syncs\[0\]\.enabled: expected true or false, got string"):
        load_spec(spec, environ={"ON": "yes"})


def test_merge_keys_and_marks_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("base: &b {a: on}\nmerged: {<<: *b, c: 1}\n", encoding="utf-8")

    doc = load_yaml(path, Interpolator({}))

    assert doc.data == {"base": {"a": "on"}, "merged": {"a": "on", "c": 1}}
    assert (doc.values[("merged", "c")].line, doc.values[("merged", "c")].column) == (2, 21)
    assert [w.split(" ", 1)[0] for w in doc.warnings.values()] == [f"{path}:1:14"]
