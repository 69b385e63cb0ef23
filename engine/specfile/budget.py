"""Budgets for reading a spec: a hostile file is refused, located, before it costs time or memory.

Specs arrive through pull requests, so the loader treats them as untrusted input. Four budgets:
file size, nesting depth, node count and alias expansion. The node count is charged while the YAML
is composed, and an alias or merge key (`<<: *defaults`) is charged the full size of what it
repeats, so a "billion laughs" file is refused at the alias that crosses the budget, long before
any value is built. An alias inside the node it names (a cycle) is refused the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import Node
from yaml.resolver import BaseResolver

from engine.specfile.yaml12 import CoreRules

# what YAML allows in a stream (PyYAML's reader uses the same set): no NUL, no C0 control bytes
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(frozen=True)
class Budget:
    """Far above any real spec (the biggest shipped example is a few hundred nodes)."""

    max_bytes: int = 1 << 20  # 1 MiB
    max_nodes: int = 25_000  # values after every alias and merge key is expanded
    max_depth: int = 50  # nested mappings and lists, aliases expanded


DEFAULT_BUDGET: Final = Budget()


class BudgetError(yaml.MarkedYAMLError):
    """A budget was exceeded at this mark; reported like any other YAML problem."""


def control_character(text: str) -> tuple[int, int, str] | None:
    """(line, column, description) of the first character YAML forbids, 1-based, or None."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return None
    index = found.start()
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    code = ord(found.group())
    name = "a NUL byte" if code == 0 else "a control character"
    return line, column, f"{name} (U+{code:04X}) is not allowed in a spec"


def utf8_error(data: bytes, exc: UnicodeDecodeError) -> tuple[int, int]:
    """1-based line and column of the first byte that is not UTF-8."""
    before = data[: exc.start]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return line, column


class BudgetComposer(Composer):
    """PyYAML's composer, charging every node (and every alias its full size) to a budget."""

    peek_event: Callable[[], Any]  # from the parser this is mixed with

    def __init__(self, budget: Budget) -> None:
        Composer.__init__(self)
        self.budget = budget
        self._nodes = 0  # expanded nodes so far
        self._depth = 0  # level of the node being composed
        self._reach = 0  # deepest mapping or list reached, aliases expanded
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return self._alias(event, parent, index)
        level = self._depth + 1
        if level > self.budget.max_depth and isinstance(event, CollectionStartEvent):
            self._refuse(event, f"nested deeper than {self.budget.max_depth} levels")
        self._charge(1, event)
        saved_depth, saved_reach, before = self._depth, self._reach, self._nodes
        self._depth = level
        self._reach = level if isinstance(event, CollectionStartEvent) else level - 1
        try:
            node = super().compose_node(parent, index)
        finally:
            height = self._reach - level + 1
            self._depth, self._reach = saved_depth, max(saved_reach, self._reach)
        self._sizes[id(node)] = (self._nodes - before + 1, height)
        return node

    def _alias(self, event: AliasEvent, parent: Node | None, index: Any) -> Node | None:
        node = self.anchors.get(event.anchor) if event.anchor is not None else None
        if node is not None:
            known = self._sizes.get(id(node))
            if known is None:  # still being composed: the alias sits inside its own anchor
                self._refuse(event, f"alias *{event.anchor} refers to a node that contains it")
            else:
                size, height = known
                if self._depth + height > self.budget.max_depth:
                    self._refuse(
                        event,
                        f"alias *{event.anchor} nests the spec deeper than "
                        f"{self.budget.max_depth} levels",
                    )
                self._charge(size, event, alias=event.anchor)
                self._reach = max(self._reach, self._depth + height)
        return super().compose_node(parent, index)  # an unknown alias: PyYAML's own error

    def _charge(self, count: int, event: Any, alias: str | None = None) -> None:
        self._nodes += count
        if self._nodes > self.budget.max_nodes:
            how = f"alias *{alias} repeats {count} values and " if alias else ""
            self._refuse(
                event,
                f"{how}the spec grows past {self.budget.max_nodes} values "
                "(aliases and merge keys expanded)",
            )

    @staticmethod
    def _refuse(event: Any, problem: str) -> None:
        raise BudgetError(None, None, problem, event.start_mark)


def _parser_base() -> type[Any]:
    """libyaml's event parser when PyYAML was built with it (fast on large files), else PyYAML's."""
    try:
        from yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:  # PyYAML built without libyaml
        return _PythonParser
    return CParser


class _PythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


_Parser: Final = _parser_base()


class BudgetLoader(BudgetComposer, _Parser, CoreRules):  # type: ignore[misc,valid-type]
    """Safe tags only, read by the YAML 1.2 core schema (engine/specfile/yaml12.py): `no` stays
    text and a birthday '1990-01-02' stays a string."""

    def __init__(self, text: str, budget: Budget = DEFAULT_BUDGET) -> None:
        _Parser.__init__(self, text)
        BudgetComposer.__init__(self, budget)
        CoreRules.__init__(self)
        BaseResolver.__init__(self)
