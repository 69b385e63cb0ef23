"""The built-in transforms, one module per family, gathered into the registry that the
`omnisync.transforms` entry point exports."""

from __future__ import annotations

from typing import Final

from engine.transforms.base import TransformDef
from engine.transforms.builtin import dates, identity, numbers, phone, substitution, text

__all__ = ["TRANSFORMS"]


def _collect() -> dict[str, TransformDef]:
    registry: dict[str, TransformDef] = {}
    for module in (text, substitution, numbers, dates, phone, identity):
        for definition in module.DEFINITIONS:
            if definition.name in registry:
                raise RuntimeError(f"transform {definition.name!r} is defined twice")
            registry[definition.name] = definition
    return registry


TRANSFORMS: Final[dict[str, TransformDef]] = _collect()
