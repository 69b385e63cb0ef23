"""The registry as a whole: every spec documents itself truthfully and checks its args."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from engine.transforms.base import NO_ARGS_SCHEMA, OMIT, TransformContext, TransformDef
from engine.transforms.builtin import TRANSFORMS

REQUIRED = {
    "trim", "lower", "upper", "default", "required", "map", "cast", "number", "date", "datetime",
    "phone", "email", "split", "join", "regex_replace", "hash", "truncate", "empty",
}  # fmt: skip

BAD_ARGS: dict[str, list[Any]] = {
    "trim": [True, ",", {"x": 1}],
    "lower": ["x"],
    "upper": [1],
    "default": [None],
    "required": [{"message": "x"}],
    "map": [None, {}, [], "M", {"values": {"M": "male"}, "fallback": "keep", "extra": 1},
            {"values": {}}, {"values": {"M": "male"}, "fallback": {"literal": 1}}],
    "cast": [None, "integer", {"to": "int", "truthy": ["y"]}, {"truthy": ["y"]}, {"to": "bool",
             "truthy": []}],
    "number": [",", {"output": "double"}, {"output": "int", "decimals": 2}, {"decimal": ","},
               {"decimal": ",", "thousands": ","}, {"decimals": -1}, {"thousand": ","}],
    "date": ["%Y", {"input": []}, {"input": [""]}, {"format": "%Y"}, {"output": 5}],
    "datetime": [{"timezone": ""}, {"input": 7}, {"tz": "+08:00"}],
    "phone": ["TW", {"region": "Taiwan"}, {"region": "tw"}, {"format": "E164"}],
    "email": [True, {"lowercase": True}],
    "split": [None, "", 1, [";"]],
    "join": [None, 1, [","]],
    "regex_replace": [None, "x", {"replacement": "y"}, {"pattern": ""}, {"pattern": "a", "n": 1}],
    "hash": ["salt", {"algorithm": "md5"}, {"salt": 1}],
    "truncate": [None, 0, -3, "10", 2.5],
    "empty": ["drop", "", True],
}  # fmt: skip


def _args_of(spec: TransformDef) -> Any:
    example = yaml.safe_load(spec.example)
    if isinstance(example, str):
        assert example == spec.name
        return None
    assert list(example) == [spec.name], "an example is a one-key mapping named after the transform"
    return example[spec.name]


def test_every_required_builtin_is_registered() -> None:
    """The issue's list of built-ins is all there, each under its own name."""
    assert set(TRANSFORMS) >= REQUIRED
    assert all(name == spec.name for name, spec in TRANSFORMS.items())


@pytest.mark.parametrize("spec", TRANSFORMS.values(), ids=list(TRANSFORMS))
def test_args_schema_is_valid_2020_12(spec: TransformDef) -> None:
    """Each args schema is itself a valid JSON Schema 2020-12 document."""
    jsonschema.Draft202012Validator.check_schema(spec.args_schema)


@pytest.mark.parametrize("spec", TRANSFORMS.values(), ids=list(TRANSFORMS))
def test_example_holds(spec: TransformDef) -> None:
    """The documented YAML example, run on example_input, gives example_output."""
    args = _args_of(spec)
    jsonschema.Draft202012Validator(spec.args_schema).validate(args)
    transform = spec.build(args, TransformContext())
    assert transform(spec.example_input) == spec.example_output
    assert spec.summary
    assert "\n" not in spec.summary


@pytest.mark.parametrize("spec", TRANSFORMS.values(), ids=list(TRANSFORMS))
def test_none_handling(spec: TransformDef) -> None:
    """None passes through every transform except default, required and empty."""
    transform = spec.build(_args_of(spec), TransformContext())
    if spec.name == "required":
        with pytest.raises(ValueError, match="required"):
            transform(None)
    elif spec.name == "default":
        assert transform(None) == "unknown"
    elif spec.name == "empty":
        assert transform(None) is OMIT
    else:
        assert transform(None) is None


@pytest.mark.parametrize("spec", TRANSFORMS.values(), ids=list(TRANSFORMS))
def test_bare_name_matches_takes_args(spec: TransformDef) -> None:
    """takes_args=False exactly when the schema is the no-args schema."""
    assert (spec.args_schema == NO_ARGS_SCHEMA) is (not spec.takes_args)


@pytest.mark.parametrize(
    ("name", "args"),
    [(name, args) for name, bad in BAD_ARGS.items() for args in bad],
    ids=[f"{name}-{i}" for name, bad in BAD_ARGS.items() for i in range(len(bad))],
)
def test_schema_rejects_bad_args(name: str, args: Any) -> None:
    """Args that cannot work are refused by the schema, before anything is built."""
    validator = jsonschema.Draft202012Validator(TRANSFORMS[name].args_schema)
    assert not validator.is_valid(args)


def test_every_transform_has_bad_args_cases() -> None:
    """No transform escapes the bad-args table."""
    assert set(BAD_ARGS) == set(TRANSFORMS)


def test_omit_is_a_falsy_singleton() -> None:
    """OMIT is one object, identified with `is`, that survives copying."""
    import copy
    import pickle

    assert copy.deepcopy(OMIT) is OMIT
    assert pickle.loads(pickle.dumps(OMIT)) is OMIT
    assert not OMIT
    assert repr(OMIT) == "OMIT"
