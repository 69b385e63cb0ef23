"""What the engine hands a source that compares in place: key columns, inputs, fingerprint."""

from __future__ import annotations

from pathlib import Path

from engine.plugins import load_registry
from engine.run.in_source import fingerprint, input_columns, key_columns
from engine.specfile import Spec, load_spec
from tests.sandbox_specs import sandbox_spec

ENV = {"SANDBOX_URL": "http://127.0.0.1:9", "OMNISEGMENT_TID": "OA-t", "OMNISEGMENT_API_KEY": "k"}


def spec(tmp_path: Path, mapping: str, detection: str = "in_source", extra: str = "") -> Spec:
    path = tmp_path / "sync.yaml"
    path.write_text(
        sandbox_spec(
            "  - name: members\n"
            "    source: {sql: {url: 'sqlite:///crm.db', table: members}}\n"
            "    destination: {endpoint: audience, options: {merge_key: member_sn}}\n"
            f"    change_detection: {detection}\n{extra}"
            f"    mapping: {mapping}\n"
        ),
        encoding="utf-8",
    )
    return load_spec(path, environ=ENV)


def endpoint(loaded: Spec):  # type: ignore[no-untyped-def]
    sync = loaded.syncs[0]
    destination = load_registry().destinations["omnisegment"](loaded.connections["omnisegment"])
    return destination.endpoint(sync.destination)


def test_the_key_is_the_column_mapped_to_the_endpoints_key_field(tmp_path: Path) -> None:
    loaded = spec(tmp_path, "{member_sn: {from: sn, transforms: [trim]}, name: name}")
    assert key_columns(loaded.syncs[0], endpoint(loaded)) == ("sn",)


def test_a_key_made_by_a_template_cannot_be_told_unless_named(tmp_path: Path) -> None:
    made = "{member_sn: {template: '{a}-{b}'}, name: name}"
    loaded = spec(tmp_path, made)
    assert key_columns(loaded.syncs[0], endpoint(loaded)) is None
    named = spec(tmp_path, made, "{in: source, key: [a, b]}")
    assert key_columns(named.syncs[0], endpoint(named)) == ("a", "b")


def test_the_inputs_are_every_column_the_mapping_and_filter_read(tmp_path: Path) -> None:
    loaded = spec(
        tmp_path,
        "{member_sn: sn, name: {template: '{first} {last}'}, email: {coalesce: [mail, mail2]}}",
        extra="    filter: \"active == 'y'\"\n",
    )
    assert input_columns(loaded.syncs[0]) == ("active", "first", "last", "mail", "mail2", "sn")


def test_the_fingerprint_changes_with_the_mapping_and_the_generation(tmp_path: Path) -> None:
    one = spec(tmp_path, "{member_sn: sn, name: name}")
    other = spec(tmp_path, "{member_sn: sn, name: {from: name, transforms: [trim]}}")
    assert fingerprint(one, one.syncs[0], "g1") == fingerprint(one, one.syncs[0], "g1")
    assert fingerprint(one, one.syncs[0], "g1") != fingerprint(other, other.syncs[0], "g1")
    assert fingerprint(one, one.syncs[0], "g1") != fingerprint(one, one.syncs[0], "g2")
