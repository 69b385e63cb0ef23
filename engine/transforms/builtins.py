"""Built-in transforms, registered through the omnisync.transforms entry point like any plugin."""

from __future__ import annotations

from typing import Any

from engine.transforms.base import Transform, TransformContext, TransformSpec


def _text(fn: Any) -> Any:
    def build(_args: Any, _ctx: TransformContext) -> Transform:
        return lambda v: fn(v) if isinstance(v, str) else v

    return build


TRANSFORMS: dict[str, TransformSpec] = {
    "trim": TransformSpec(
        "trim",
        {"type": "null"},
        _text(str.strip),
        "Strip spaces.",
        "trim",
        " a ",
        "a",
        takes_args=False,
    ),
    "lower": TransformSpec(
        "lower",
        {"type": "null"},
        _text(str.lower),
        "Lower case.",
        "lower",
        "A",
        "a",
        takes_args=False,
    ),
    "upper": TransformSpec(
        "upper",
        {"type": "null"},
        _text(str.upper),
        "Upper case.",
        "upper",
        "a",
        "A",
        takes_args=False,
    ),
}
