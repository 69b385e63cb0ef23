"""YAML 1.2 rules for plain scalars, and what YAML 1.1 would have read in their place.

PyYAML resolves plain scalars by YAML 1.1: `no` is false, `0123` is 83, `12:30` is 750. A mapping
`{values: {yes: Y, no: N}}` then maps booleans and every row is rejected, with no word at load
time. Specs are read by the YAML 1.2 core schema instead (the resolver and constructors of
yamlcore, a PyYAML extension made for this), the rules editors and the YAML language server
follow. Where a scalar means something else under 1.1, `yaml11_reading` says what, so `validate`
can warn at its line (docs/architecture.md, "YAML 1.2, not 1.1").
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import BaseResolver, Resolver
from yamlcore.loader import CommonConstructor, CommonResolver  # type: ignore[import-untyped]

_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
SCALAR_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null")
)


class CoreRules(CommonConstructor, SafeConstructor, CommonResolver):  # type: ignore[misc]
    """The 1.2 core schema: true/false, null/~, decimal, 0o octal and 0x hex integers, floats with
    an optional exponent; everything else is text. Merge keys (`<<: *defaults`) are kept: specs use
    them and the YAML language server reads them too. Only these tags construct: an explicit
    `!!binary` or `!!timestamp` is refused by the loader."""

    yaml_constructors: ClassVar[dict[Any, Any]] = {}  # PyYAML's class-level registry
    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}  # ... and its resolvers


CoreRules.init_constructors("core")
CoreRules.init_resolvers("core")
CoreRules.add_implicit_resolver(_MERGE, re.compile(r"^(?:<<)$"), ["<"])


class _Yaml11(SafeConstructor, Resolver):
    """What omnisync read before: PyYAML's 1.1 resolver without timestamps."""

    yaml_implicit_resolvers = {  # noqa: RUF012  # PyYAML's class-level registry
        first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
        for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    }


_NOT_READ = object()
_reader: _Yaml11 | None = None


def yaml11_reading(node: ScalarNode, read: Any) -> tuple[bool, Any]:
    """(True, value) when YAML 1.1 reads this plain scalar as something else than `read`, the
    value the 1.2 rules gave it; (False, None) when both agree."""
    global _reader
    if node.style or node.tag not in SCALAR_TAGS:
        return False, None  # quoted, a block scalar, or an explicit tag: the same in both
    if _reader is None:
        _reader = _Yaml11()
    tag = _reader.resolve(ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    if tag == node.tag == "tag:yaml.org,2002:str":
        return False, None
    try:
        old = _reader.construct_object(ScalarNode(tag, node.value), deep=True)
    except (ValueError, TypeError, KeyError):  # e.g. '0b' alone: 1.1 matched but cannot build
        return False, None
    if type(old) is type(read) and (old == read or old != old):  # nan == nan here
        return False, None
    return True, old


def read_scalar(text: str) -> Any:
    """The value a plain scalar `text` has under the 1.2 core schema (for a whole `${VAR}` where
    the schema wants a number or a boolean)."""
    rules = _CoreScalar()
    tag = rules.resolve(ScalarNode, text, (True, False))
    return rules.construct_object(ScalarNode(tag, text), deep=True)


class _CoreScalar(CoreRules):
    def __init__(self) -> None:
        CoreRules.__init__(self)
        BaseResolver.__init__(self)
