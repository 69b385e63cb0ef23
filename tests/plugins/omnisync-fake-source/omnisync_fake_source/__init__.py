"""A source that makes up `count` members and a `shout` transform: a third-party plugin, no more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from engine.contracts import SourceContext
from engine.rows import Position, Row
from engine.transforms.base import Transform, TransformContext, TransformDef, TransformError


class FakeSource:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "prefix": {"type": "string"},
            "fail_at": {"type": "integer", "description": "raise an unexpected error at this row"},
        },
        "additionalProperties": False,
    }

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.count = int(config["count"])
        self.prefix = str(config.get("prefix", "F"))
        self.fail_at = config.get("fail_at")

    def locate(self, position: Position) -> str:
        return f"fake:{position[0]}"

    async def read(self, resume: Position | None) -> AsyncIterator[Row]:
        start = 0 if resume is None else int(resume[0]) + 1
        for i in range(start, self.count):
            if i == self.fail_at:
                raise RuntimeError(f"the fake source broke at row {i}")
            yield Row({"id": f"{self.prefix}{i:05d}", "name": f"Fake {i}"}, (i,))


def _build_shout(args: Any, _context: TransformContext) -> Transform:
    mark = str(args or "!")

    def shout(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TransformError(f"shout takes text, got {type(value).__name__}")
        return value.upper() + mark

    return shout


SHOUT = TransformDef(
    name="shout",
    args_schema={"type": ["string", "null"], "maxLength": 3},
    build=_build_shout,
    summary="Upper-case text and add a mark.",
    example="{shout: '!'}",
    example_input="hi",
    example_output="HI!",
)
