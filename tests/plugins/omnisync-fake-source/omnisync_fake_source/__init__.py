"""A source that makes up `count` members: what a third-party plugin needs, and no more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from engine.contracts import SourceContext
from engine.records import Position, Row


class FakeSource:
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["count"],
        "properties": {"count": {"type": "integer", "minimum": 0}, "prefix": {"type": "string"}},
        "additionalProperties": False,
    }

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.count = int(config["count"])
        self.prefix = str(config.get("prefix", "F"))

    def locate(self, position: Position) -> str:
        return f"fake:{position[0]}"

    async def read(self, resume: Position | None) -> AsyncIterator[Row]:
        start = 0 if resume is None else int(resume[0]) + 1
        for i in range(start, self.count):
            yield Row({"id": f"{self.prefix}{i:05d}", "name": f"Fake {i}"}, (i,))
