"""The built-in transform registry, exported through the `omnisync.transforms` entry point.

Each transform lives beside its kin in engine/transforms/builtin/; this module only gathers them.
"""

from __future__ import annotations

from typing import Final

from engine.transforms.base import TransformSpec
from engine.transforms.builtin import dates, identity, numbers, phone, text, values

__all__ = ["TRANSFORMS"]


def _collect() -> dict[str, TransformSpec]:
    registry: dict[str, TransformSpec] = {}
    for module in (text, values, numbers, dates, phone, identity):
        for spec in module.SPECS:
            if spec.name in registry:
                raise RuntimeError(f"transform {spec.name!r} is defined twice")
            registry[spec.name] = spec
    return registry


TRANSFORMS: Final[dict[str, TransformSpec]] = _collect()
