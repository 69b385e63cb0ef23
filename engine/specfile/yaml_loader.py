"""Safe YAML loading that remembers where every key and value came from.

jsonschema reports JSON paths; users need file:line:column. We compose the YAML node graph (safe
tags only), build plain Python values from it and keep a map from path to position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import SpecError
from engine.specfile.budget import (
    DEFAULT_BUDGET,
    Budget,
    BudgetError,
    BudgetLoader,
    control_character,
    utf8_error,
)
from engine.specfile.hygiene import is_data, raw_value_problems, value_problems
from engine.specfile.interpolate import Interpolator, is_whole_reference
from engine.specfile.yaml12 import SCALAR_TAGS, yaml11_reading
from engine.specfile.yaml_hints import syntax_hint

JsonPath = tuple[str | int, ...]


_YAML_TAG = "tag:yaml.org,2002:"
_IMPLICIT_TAGS = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float", "null"))
_LONGEST_KEY = 60  # a longer key is cut in messages
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column, as editors show them."""

    line: int
    column: int

    @classmethod
    def of(cls, mark: yaml.Mark) -> Mark:
        """From PyYAML's 0-based mark."""
        return cls(mark.line + 1, mark.column + 1)

    def where(self, file: str) -> str:
        """file:line:column, the one spelling of a position in every spec message."""
        return f"{file}:{self.line}:{self.column}"


@dataclass
class LocatedDocument:
    """The loaded data plus where each path was written."""

    file: str
    data: Any
    values: dict[JsonPath, Mark] = field(default_factory=dict)
    keys: dict[JsonPath, Mark] = field(default_factory=dict)
    # located messages found while loading (unset variables, duplicate keys)
    problems: dict[JsonPath, str] = field(default_factory=dict)
    # values written as one whole ${VAR}: a number or boolean may come from the environment
    from_env: set[JsonPath] = field(default_factory=set)
    # plain scalars YAML read as something else than text (`null` -> null, `10` -> 10), as written
    plain: dict[JsonPath, tuple[str, str]] = field(default_factory=dict)
    # located warnings: plain scalars YAML 1.1 read otherwise (`yes` was true, `0123` was 83)
    warnings: dict[Mark, str] = field(default_factory=dict)  # by position: aliases repeat values

    def locate(self, path: JsonPath, at_key: bool = False) -> Mark:
        """Nearest known position for a path: the key or value itself, else its closest parent."""
        table = self.keys if at_key else self.values
        probe = path
        while True:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return Mark(1, 1)
            probe = probe[:-1]


def load_yaml(
    path: Path, interpolator: Interpolator, budget: Budget = DEFAULT_BUDGET
) -> LocatedDocument:
    """Parse a spec file. Syntax errors and exceeded budgets raise at once; unset variables and
    duplicate keys are kept in `problems` so they are reported together with the schema's findings."""
    display = str(path)
    text = _read_text(path, display, budget)
    loader = BudgetLoader(text, budget)
    try:
        node = loader.get_single_node()
        doc = LocatedDocument(display, None)
        builder = _Builder(loader, doc, interpolator)
        doc.data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark.of(mark).where(display) if mark else display
        problem = exc.problem or exc.context or "invalid YAML"
        hint = syntax_hint(text, mark.line if mark else None, problem)
        kind = "refused" if isinstance(exc, BudgetError) else "invalid YAML"
        raise SpecError([f"{where}: {kind}: {problem}{hint}"]) from None
    except yaml.YAMLError as exc:
        raise SpecError([f"{display}: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    return doc


def _read_text(path: Path, display: str, budget: Budget) -> str:
    """The file's text, refused early when too big, not UTF-8 or holding control characters."""
    try:
        with path.open("rb") as handle:
            data = handle.read(budget.max_bytes + 1)
    except FileNotFoundError:
        raise SpecError([f"{display}: no such file"]) from None
    except OSError as exc:
        raise SpecError([f"{display}: cannot read: {exc.strerror or exc}"]) from None
    if len(data) > budget.max_bytes:
        big = budget.max_bytes >= 1 << 20
        limit = f"{budget.max_bytes >> 20} MiB" if big else f"{budget.max_bytes >> 10} KiB"
        raise SpecError([f"{display}:1:1: the spec is larger than the {limit} a spec may be"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = utf8_error(data, exc)
        raise SpecError([f"{display}:{line}:{column}: the spec is not UTF-8 text"]) from None
    bad = control_character(text)
    if bad is not None:
        line, column, problem = bad
        raise SpecError([f"{display}:{line}:{column}: invalid YAML: {problem}"])
    return text


class _Builder:
    def __init__(
        self, loader: BudgetLoader, doc: LocatedDocument, interpolator: Interpolator
    ) -> None:
        self.loader = loader
        self.doc = doc
        self.interpolator = interpolator

    def _problem(self, node: yaml.Node, path: JsonPath, message: str) -> None:
        where = Mark.of(node.start_mark).where(self.doc.file)
        self.doc.problems.setdefault(path, f"{where} {dotted(path)}: {message}")

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.doc.values[path] = Mark.of(node.start_mark)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            self._problem(
                node,
                path,
                f"YAML tag '{_tag_name(node.tag)}' is not allowed: specs are plain YAML (remove the tag)",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.ScalarNode) or node.tag not in SCALAR_TAGS:
            self._problem(
                node,
                path,
                f"YAML tag '{_tag_name(node.tag)}' is not allowed: specs are plain YAML (remove the tag)",
            )
            return None
        value = self.loader.construct_object(node, deep=True)
        self._compare_yaml11(node, path, value, "")
        if not isinstance(value, str):
            if isinstance(value, float) and not math.isfinite(value) and not is_data(path):
                self._problem(node, path, f"{node.value} is not a finite number")
            if not node.style and node.tag in _IMPLICIT_TAGS:
                self.doc.plain[path] = (str(node.value), _as_yaml(value))
            return value
        problems = [] if is_data(path) else raw_value_problems(path, value)
        if "$" in value:
            if is_whole_reference(value):
                self.doc.from_env.add(path)
            value, unset = self.interpolator.expand(value, path)
            problems += unset
        problems += value_problems(() if is_data(path) else path, value)
        for problem in problems:
            self._problem(node, path, problem)
        self.interpolator.note_if_secret(path, value)
        return value

    def _compare_yaml11(self, node: yaml.ScalarNode, path: JsonPath, read: Any, what: str) -> None:
        changed, old = yaml11_reading(node, read)
        if changed:
            mark = Mark.of(node.start_mark)
            message = what + _yaml11_warning(node.value, old, read)
            line = f"{mark.where(self.doc.file)} {dotted(path)}: warning: {message}"
            self.doc.warnings.setdefault(mark, line)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if isinstance(key_node, yaml.ScalarNode):
                self._compare_yaml11(key_node, child, key, "the key ")
            for problem in value_problems((), key):
                self._problem(key_node, child, f"in a key: {problem}")
            if key in result:
                self._problem(key_node, child, f"duplicate key '{key}'")
            self.doc.keys[child] = Mark.of(key_node.start_mark)
            result[key] = self.build(value_node, child)
        return result


def _yaml11_warning(written: str, old: Any, new: Any) -> str:
    """What changed between YAML 1.1 and 1.2 for this scalar, and how to say what is meant."""
    before = f"YAML 1.1 read it as {_as_yaml(old)}"
    if isinstance(new, str):
        fix = (
            f"write {_as_yaml(old)} if a boolean is meant, or quote it ('{written}')"
            if isinstance(old, bool)
            else f"quote it ('{written}')"
        )
        return f"{written} is the text '{new}' (YAML 1.2; {before}): {fix} to say so"
    return (
        f"{written} is the number {_as_yaml(new)} (YAML 1.2; {before}): quote it ('{written}') if the text "
        "is meant"
    )


def _tag_name(tag: str) -> str:
    """!!binary, as the file spells it, rather than tag:yaml.org,2002:binary."""
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


def dotted(path: JsonPath) -> str:
    """syncs[0].destination.endpoint, the way users read paths."""
    out = ""
    for part in path:
        if isinstance(part, str) and len(part) > _LONGEST_KEY:
            part = part[: _LONGEST_KEY - 3] + "..."
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def _as_yaml(value: Any) -> str:
    """How YAML spells the value it read: false, null, 8."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
