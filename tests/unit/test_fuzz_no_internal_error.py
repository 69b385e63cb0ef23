"""Fuzzing: any spec text, mapping, transform argument or cell ends as a value, a reject or a spec
error, never another exception (which would reach the user as an internal error).

Short by default; `pytest -m long` runs the same properties with many more examples.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SpecError
from engine.plugins import Registry, load_registry
from engine.specfile import load_spec
from engine.transforms.base import OMIT, TransformArgsError, TransformContext, TransformError
from engine.transforms.builtin import TRANSFORMS
from engine.transforms.mapping import FieldError, compile_mapping

SHORT, LONG = 40, 2000
REGISTRY: Registry = load_registry()
_COUNTER = itertools.count()

VALID = """\
version: 1
omnisegment: {environment: sandbox}
max_reject_ratio: 0.1
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {batch_size: 50, rate_limit: 10/s, retry: {unavailable: {interval: 1, attempts: 2}}}
    filter: "status == 'active'"
    mapping:
      member_sn: id
      name: {template: "{first} {last}", transforms: [trim, {truncate: 20}]}
      email: {from: email, transforms: [trim, lower, email], on_error: "null"}
      sex: {from: sex, transforms: [{map: {M: male, F: female}}]}
    tests:
      - row: {id: M1, first: A, last: B, email: a@b.tw, sex: M, status: active}
        expect: {member_sn: M1}
"""

CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="0123456789-+.,/:@ aeE年月日TZ()$", max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.none(), st.text(max_size=5), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
COLUMNS = st.sampled_from(["id", "first", "last", "email", "sex", "status", "total", "col 1"])


def _write(directory: Path, text: str | bytes) -> Path:
    path = directory / f"spec-{next(_COUNTER)}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return path


def _loads_or_refuses(path: Path) -> Any:
    """The only acceptable outcomes: a Spec, or a SpecError whose lines all name the file."""
    try:
        return load_spec(path, REGISTRY, environ={})
    except SpecError as exc:
        lines = exc.lines
    assert lines
    unlocated = [line for line in lines if not line.startswith(str(path))]
    assert not unlocated, unlocated
    return None


def _mutated(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(
                    [
                        "*a",
                        "&a ",
                        "<<: ",
                        "!!python/name:os.system ",
                        "{",
                        "[",
                        ": ",
                        "\n  - ",
                        ".nan",
                        ".inf",
                        "~",
                        "no",
                        "0o10",
                        "${X}",
                        "\t",
                        "'",
                        '"',
                        "? ",
                        "---\n",
                    ]
                ),
            )
        )
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + len(piece) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return text


def _fuzz_spec_text(tmp_path: Path, data: st.DataObject) -> None:
    text = data.draw(st.one_of(st.text(max_size=200), st.just(VALID).map(lambda v: v)))
    if text == VALID:
        text = _mutated(VALID, data)
    _loads_or_refuses(_write(tmp_path, text))


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=SHORT, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_spec_text_loads_or_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    _fuzz_spec_text(tmp_path, data)


@pytest.mark.long
@settings(max_examples=LONG, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_spec_text_loads_or_is_refused_long(tmp_path: Path, data: st.DataObject) -> None:
    _fuzz_spec_text(tmp_path, data)


# -- mappings: through the loader's checks, then compiled and applied to arbitrary rows -------


def _transform_calls() -> st.SearchStrategy[Any]:
    named = st.sampled_from(sorted(TRANSFORMS))
    return st.one_of(named, st.builds(lambda n, a: {n: a}, named, JSONISH))


def _field(depth: int) -> st.SearchStrategy[Any]:
    source = st.one_of(
        st.builds(lambda c: {"from": c}, COLUMNS),
        st.builds(lambda v: {"const": v}, JSONISH),
        st.builds(lambda a, b: {"template": f"{{{a}}} x {{{b}}}"}, COLUMNS, COLUMNS),
        st.builds(lambda cs: {"coalesce": cs}, st.lists(COLUMNS, min_size=1, max_size=3)),
        st.builds(
            lambda e: {"expr": e},
            st.sampled_from(
                [
                    "total * 2",
                    "coalesce(first, last)",
                    "len(email) > 3",
                    "first + ' ' + last",
                    "int(total) + 1",
                    "'a' * 3",
                    "total / 0",
                    "upper(email)",
                    "1e308 * 10",
                ]
            ),
        ),
    )
    if depth > 0:
        nested = st.dictionaries(st.sampled_from(["a", "b"]), _field(depth - 1), min_size=1)
        source = st.one_of(source, st.builds(lambda o: {"object": o}, nested))
    return st.builds(
        lambda base, calls, on_error: {**base, "transforms": calls, **on_error},
        source,
        st.lists(_transform_calls(), max_size=3),
        st.sampled_from([{}, {"on_error": "null"}, {"on_error": "omit"}]),
    )


MAPPINGS = st.dictionaries(
    st.sampled_from(["member_sn", "name", "email", "mobile", "gender", "birthday", "note"]),
    st.one_of(COLUMNS, _field(1)),
    min_size=1,
    max_size=4,
)
ROWS = st.dictionaries(COLUMNS, CELLS, max_size=8)


def _fuzz_mapping(tmp_path: Path, mapping: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    document = yaml.safe_load(VALID)
    document["syncs"][0]["mapping"] = mapping
    del document["syncs"][0]["tests"]
    spec = _loads_or_refuses(_write(tmp_path, yaml.safe_dump(document, allow_unicode=True)))
    if spec is None:
        return
    sync = spec.syncs[0]
    compiled = compile_mapping(sync.mapping, REGISTRY.transforms, TransformContext("+08:00"))
    for row in rows:
        try:
            record = compiled.apply(row)
        except FieldError:
            continue
        assert record is None or isinstance(record, dict)
        assert OMIT not in (record or {}).values()


@settings(max_examples=SHORT, **_SETTINGS)  # type: ignore[arg-type]
@given(mapping=MAPPINGS, rows=st.lists(ROWS, min_size=1, max_size=5))
def test_any_mapping_is_refused_or_maps_every_row(
    tmp_path: Path, mapping: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    _fuzz_mapping(tmp_path, mapping, rows)


@pytest.mark.long
@settings(max_examples=LONG, **_SETTINGS)  # type: ignore[arg-type]
@given(mapping=MAPPINGS, rows=st.lists(ROWS, min_size=1, max_size=5))
def test_any_mapping_is_refused_or_maps_every_row_long(
    tmp_path: Path, mapping: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    _fuzz_mapping(tmp_path, mapping, rows)


# -- every transform: arbitrary arguments, then arbitrary values -----------------------------


def _build_or_refuse(name: str, args: Any) -> Callable[[Any], Any] | None:
    definition = TRANSFORMS[name]
    if not jsonschema.Draft202012Validator(definition.args_schema).is_valid(args):
        return None
    try:
        return definition.build(args, TransformContext("+08:00"))
    except (TransformArgsError, ValueError):  # what the loader turns into a spec error
        return None


def _example_args(name: str) -> Any:
    example = TRANSFORMS[name].example
    loaded = yaml.safe_load(example)
    return loaded[name] if isinstance(loaded, dict) else None


def _fuzz_transform(name: str, args: Any, values: list[Any]) -> None:
    transform = _build_or_refuse(name, args)
    if transform is None:
        return
    for value in values:
        try:
            transform(value)
        except TransformError:
            continue


ARGS = st.one_of(JSONISH, st.text(alphabet=string.printable, max_size=20))


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@settings(max_examples=SHORT, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data(), values=st.lists(CELLS, min_size=1, max_size=6))
def test_every_transform_returns_or_rejects(
    name: str, data: st.DataObject, values: list[Any]
) -> None:
    args = data.draw(st.one_of(st.just(_example_args(name)), ARGS))
    _fuzz_transform(name, args, values)


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@settings(max_examples=LONG // 4, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data(), values=st.lists(CELLS, min_size=1, max_size=6))
def test_every_transform_returns_or_rejects_long(
    name: str, data: st.DataObject, values: list[Any]
) -> None:
    args = data.draw(st.one_of(st.just(_example_args(name)), ARGS))
    _fuzz_transform(name, args, values)


def test_the_starting_points_are_usable(tmp_path: Path) -> None:
    """The fuzzers above start from these: a refused starting point would test nothing."""
    assert _loads_or_refuses(_write(tmp_path, VALID)) is not None
    assert [n for n in TRANSFORMS if _build_or_refuse(n, _example_args(n)) is None] == []
