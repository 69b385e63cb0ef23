"""docs/adding-an-endpoint.md holds against the tree: every catalogue entry is in every place the
checklist marks as checked, naming the endpoint and the step it misses.

The checklist's items carry `(checked: ID)` markers and CHECKS below has one function per ID; the
two are held equal, so the document and this test list the same places.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.endpoint_def import EndpointDef, Route
from connectors.omnisegment.init_command import init
from connectors.omnisegment.record_rules import FORMATS, RULES
from connectors.omnisegment.sandbox.routes import ROUTES
from connectors.omnisegment.starters import STARTERS
from tests.conftest import ROOT
from tests.corpora.reference_examples import load as load_corpus
from tests.integration.endpoint_cases import CASES
from tests.integration.test_endpoint_properties import SETUPS
from tests.integration.test_example_configs import EXAMPLES

CHECKLIST = ROOT / "docs" / "adding-an-endpoint.md"
SCHEMAS = ROOT / "connectors" / "omnisegment" / "schemas"
ENDPOINTS_DOC = ROOT / "docs" / "endpoints.md"
_MARKER = re.compile(r"\(checked: `([a-z-]+)`\)")
_ITEM = re.compile(r"^(\d+)\. \*\*(.+?)\*\*")

Check = Callable[[str, EndpointDef], list[str]]
CHECKS: dict[str, Check] = {}


def check(marker: str) -> Callable[[Check], Check]:
    """Register a check under the marker the checklist's item carries."""

    def register(function: Check) -> Check:
        CHECKS[marker] = function
        return function

    return register


def _paths(definition: EndpointDef) -> set[str]:
    return {p for route in definition.routes.values() for p in (route.path, *route.other_paths)}


def _modes(name: str, definition: EndpointDef, tried: Iterator[tuple[str, str | None]]) -> set[str]:
    """The modes of `name` among (endpoint, mode or None) pairs; None is the default route."""
    return {mode or definition.default_mode for endpoint, mode in tried if endpoint == name}


def _section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


@functools.cache
def _posted_paths() -> frozenset[str]:
    return frozenset(example["path"] for example in load_corpus())


@check("corpus")
def _corpus(name: str, definition: EndpointDef) -> list[str]:
    if _posted_paths() & _paths(definition):
        return []
    return [f"no reference example posts to {sorted(_paths(definition))}"]


@check("schema")
def _schema(name: str, definition: EndpointDef) -> list[str]:
    path = SCHEMAS / definition.schema
    if not path.is_file():
        return [f"no record schema {path.relative_to(ROOT)}"]
    found = json.loads(path.read_text(encoding="utf-8")).get("$id")
    wanted = f"omnisegment/{definition.schema}"
    return [] if found == wanted else [f"{path.name}: $id is {found!r}, not {wanted!r}"]


def unknown_formats(schema: Any) -> list[str]:
    """The `format` values of a schema that record_rules.FORMATS cannot check: jsonschema and the
    compiled check let an unknown format pass, silently."""
    found: list[str] = []
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str) and schema["format"] not in FORMATS.checkers:
            found.append(schema["format"])
        for key, value in schema.items():
            if key in ("properties", "$defs", "patternProperties"):
                for sub in value.values():
                    found.extend(unknown_formats(sub))
            elif key not in ("format", "enum", "const", "default", "examples"):
                found.extend(unknown_formats(value))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(unknown_formats(item))
    return found


@check("formats")
def _formats(name: str, definition: EndpointDef) -> list[str]:
    path = SCHEMAS / definition.schema
    if not path.is_file():
        return []  # the `schema` check says so
    unknown = unknown_formats(json.loads(path.read_text(encoding="utf-8")))
    return [f"format {f!r} has no checker in record_rules.FORMATS" for f in unknown]


@check("sandbox-route")
def _sandbox_route(name: str, definition: EndpointDef) -> list[str]:
    served = {(route.path, route.endpoint) for route in ROUTES}
    missing = sorted(p for p in _paths(definition) if (p, name) not in served)
    return [f"the sandbox serves no {path} keeping {name} records" for path in missing]


@check("endpoint-cases")
def _endpoint_cases(name: str, definition: EndpointDef) -> list[str]:
    tried = _modes(name, definition, ((c.endpoint, c.mode) for c in CASES))
    return [f"no Case for mode {mode}" for mode in sorted(set(definition.routes) - tried)]


@check("property-setups")
def _property_setups(name: str, definition: EndpointDef) -> list[str]:
    tried = _modes(name, definition, ((s[0], s[2]) for s in SETUPS))
    return [f"no SETUPS entry for mode {mode}" for mode in sorted(set(definition.routes) - tried)]


@check("starter")
def _starter(name: str, definition: EndpointDef) -> list[str]:
    option = next(p for p in init.params if p.name == "endpoint")
    assert isinstance(option.type, click.Choice)
    problems = [] if name in option.type.choices else [f"`omnisync init --endpoint {name}` refused"]
    if name not in STARTERS:
        return ["no STARTERS entry", *problems]
    if not re.search(rf"\bendpoint: {re.escape(name)}\b", STARTERS[name].destination):
        problems.append(f"its starter's destination is {STARTERS[name].destination}")
    return problems


@functools.cache
def _config_endpoints(path: Path) -> set[str]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {sync["destination"]["endpoint"] for sync in spec["syncs"]}


@check("config")
def _config(name: str, definition: EndpointDef) -> list[str]:
    configs = sorted(
        p.name for p in (ROOT / "configs").glob("*.yaml") if name in _config_endpoints(p)
    )
    if not configs:
        return ["no example spec in configs/ sends to it"]
    if not set(configs) & set(EXAMPLES):
        return [f"test_example_configs.py's EXAMPLES runs none of {configs}"]
    return []


def _enums_of(key: str, schema: Any) -> Iterator[list[Any]]:
    if isinstance(schema, dict):
        for k, value in schema.items():
            if k == key and isinstance(value, dict) and "enum" in value:
                yield value["enum"]
            yield from _enums_of(key, value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _enums_of(key, item)


@check("editor-schema")
def _editor_schema(name: str, definition: EndpointDef) -> list[str]:
    published = json.loads((ROOT / "schema" / "omnisync.schema.json").read_text(encoding="utf-8"))
    if any(name in enum for enum in _enums_of("endpoint", published)):
        return []
    return ["schema/omnisync.schema.json does not list it: regenerate it"]


@check("endpoints-doc-routes")
def _endpoints_doc_routes(name: str, definition: EndpointDef) -> list[str]:
    rows = re.findall(
        r"^\| (\w+) \| (\w+) \| (/\S*)",
        _section(ENDPOINTS_DOC.read_text("utf-8"), "## Routes"),
        re.M,
    )
    documented = {mode: path for endpoint, mode, path in rows if endpoint == name}
    problems = []
    for mode, route in definition.routes.items():
        if mode not in documented:
            problems.append(f"no row for mode {mode} in the Routes table")
        elif not documented[mode].startswith(route.path):
            problems.append(f"its {mode} row names {documented[mode]}, not {route.path}")
    return problems


@check("endpoints-doc-fields")
def _endpoints_doc_fields(name: str, definition: EndpointDef) -> list[str]:
    section = _section(ENDPOINTS_DOC.read_text(encoding="utf-8"), "## Required record fields")
    if re.search(rf"^- {re.escape(name)} \(", section, re.M):
        return []
    return ["no bullet under 'Required record fields'"]


@check("readme")
def _readme(name: str, definition: EndpointDef) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = text.split("\n- **Endpoints**", 1)[1].split("\n- **", 1)[0]
    return [] if f"`{name}`" in line else ["not named in README.md's Endpoints line"]


def checklist() -> list[tuple[str, str, str]]:
    """(marker, item number, item title) for each checked item of the checklist, in order."""
    found = []
    number, title = "?", "?"
    for line in _section(CHECKLIST.read_text(encoding="utf-8"), "## Checklist").splitlines():
        if item := _ITEM.match(line):
            number, title = item.groups()
        found.extend((marker, number, title) for marker in _MARKER.findall(line))
    return found


STEPS = {marker: f"step {number} ({title})" for marker, number, title in checklist()}


def test_the_checklist_marks_exactly_the_places_checked_here() -> None:
    markers = [marker for marker, _, _ in checklist()]

    assert len(markers) == len(set(markers)), markers
    assert markers == list(CHECKS), "the checklist's markers and CHECKS: same places, same order"


@pytest.mark.parametrize("marker", list(CHECKS))
def test_every_catalogue_entry_is_in_the_checked_place(marker: str) -> None:
    """Each endpoint of the catalogue, against one checked item of the checklist."""
    missing = [
        f"{name}: {problem}"
        for name, definition in CATALOGUE.items()
        for problem in CHECKS[marker](name, definition)
    ]

    assert not missing, f"docs/adding-an-endpoint.md {STEPS.get(marker)}: " + "; ".join(missing)


def test_a_new_endpoint_is_missing_from_every_checked_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endpoint only in the catalogue fails every check: no check passes by construction."""
    route = Route("/api/v1/loyalty-cards/import/", "body", 1)
    new = EndpointDef("loyalty_card", "loyalty_card.json", ("card_id",), {"single": route})
    schema = {"properties": {"card_id": {"type": "string", "format": "card-number"}}}
    (tmp_path / "loyalty_card.json").write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SCHEMAS", tmp_path)

    passing = [marker for marker, function in CHECKS.items() if not function(new.name, new)]

    assert passing == []


def test_every_place_names_only_catalogue_endpoints() -> None:
    """The other way round: a place keyed by a name the catalogue lacks (a typo, a renamed
    endpoint) would never be used; RULES under a wrong name would check nothing, silently."""
    used = {
        "record_rules.RULES": set(RULES),
        "starters.STARTERS": set(STARTERS),
        "sandbox routes": {route.endpoint for route in ROUTES},
        "endpoint_cases.CASES": {case.endpoint for case in CASES},
        "test_endpoint_properties.SETUPS": {setup[0] for setup in SETUPS},
    }

    unknown = {place: sorted(names - set(CATALOGUE)) for place, names in used.items()}

    assert all(not names for names in unknown.values()), unknown


def _commands() -> list[list[str]]:
    text = CHECKLIST.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line and not line.startswith("#")]


def test_the_checklists_commands_run_tests_that_exist() -> None:
    """Each command is the README's test command on files that exist, selecting by an endpoint."""
    commands = _commands()

    assert commands
    for words in commands:
        assert words[:4] == [".venv/bin/python", "-m", "pytest", "-q"], words
        selection = words[words.index("-k") + 1] if "-k" in words else None
        assert selection is None or selection in CATALOGUE, words
        files = [w for w in words[4:] if "/" in w]
        assert files, words
        assert [f for f in files if not (ROOT / f.split("::")[0]).exists()] == [], words


def test_the_files_the_checklist_names_exist() -> None:
    text = CHECKLIST.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:connectors|engine|tests|configs|docs|schema)/[\w./-]+)`", text))

    assert named
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
