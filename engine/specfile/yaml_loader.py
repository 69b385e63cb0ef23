"""Safe YAML loading that remembers where every key and value came from.

jsonschema reports JSON paths; users need file:line:column. We compose the YAML node graph (safe
tags only), build plain Python values from it and keep a map from path to position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import SpecError
from engine.specfile.interpolate import Interpolator, is_whole_reference

JsonPath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps: a birthday '1990-01-02' must stay a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def load_yaml(path: Path, interpolator: Interpolator) -> LocatedDocument:
    """Parse a spec file. Syntax errors raise at once; unset variables and duplicate keys are kept
    in `problems` so they are reported together with the schema's findings."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{display}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"{display}: cannot read: {exc}"]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        doc = LocatedDocument(display, None)
        builder = _Builder(loader, doc, interpolator)
        doc.data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark.of(mark).where(display) if mark else display
        problem = exc.problem or exc.context or "invalid YAML"
        hint = _quote_hint(text, mark.line if mark else None)
        raise SpecError([f"{where}: invalid YAML: {problem}{hint}"]) from None
    except yaml.YAMLError as exc:
        raise SpecError([f"{display}: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    return doc


class _Builder:
    def __init__(self, loader: _Loader, doc: LocatedDocument, interpolator: Interpolator) -> None:
        self.loader = loader
        self.doc = doc
        self.interpolator = interpolator

    def _problem(self, node: yaml.Node, path: JsonPath, message: str) -> None:
        where = Mark.of(node.start_mark).where(self.doc.file)
        self.doc.problems[path] = f"{where} {dotted(path)}: {message}"

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.doc.values[path] = Mark.of(node.start_mark)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            self._problem(node, path, f"YAML tag '{node.tag}' is not allowed: specs are plain YAML")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and "$" in value:
            if is_whole_reference(value):
                self.doc.from_env.add(path)
            value, problems = self.interpolator.expand(value, path)
            for problem in problems:
                self._problem(node, path, problem)
        if isinstance(value, str):
            self.interpolator.note_if_secret(path, value)
        return value

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in result:
                self._problem(key_node, child, f"duplicate key '{key}'")
            self.doc.keys[child] = Mark.of(key_node.start_mark)
            result[key] = self.build(value_node, child)
        return result


def _quote_hint(text: str, line: int | None) -> str:
    """`{path: ${VAR:-x}}` is not YAML (braces and a colon in a flow mapping): say to quote it."""
    lines = text.splitlines()
    near = lines[max(0, (line or 0) - 1) : (line or 0) + 1] if line is not None else lines
    if any("${" in candidate and "{" in candidate.replace("${", "") for candidate in near):
        return ' (hint: quote a ${VAR} inside {...} or [...]: "${VAR:-default}")'
    return ""


def dotted(path: JsonPath) -> str:
    """syncs[0].destination.endpoint, the way users read paths."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"
