"""Every failing field of a rejected row, for `omnisync plan` (the run stops at the first one).

The mapping is compiled field by field, so each field's transform chain runs on its own; a record
the endpoint refuses is checked again without each field it names, until it names no new one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.contracts import Destination, Endpoint
from engine.plugins import Registry
from engine.specfile import SyncSpec
from engine.transforms.base import TransformContext
from engine.transforms.mapping import CompiledMapping, FieldError, compile_mapping

MAX_ROUNDS = 50  # a record refused for more fields than this shows the first 50


class Explainer:
    """Built once per sync; `problems(values, record)` -> [(field, reason)] in mapping order."""

    def __init__(
        self, sync: SyncSpec, registry: Registry, destination: Destination, endpoint: Endpoint
    ) -> None:
        context = TransformContext(destination.default_utc_offset())
        self.fields: dict[str, CompiledMapping] = {
            name: compile_mapping({name: definition}, registry.transforms, context)
            for name, definition in sync.mapping.items()
        }
        self.endpoint = endpoint

    def mapping_problems(self, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = []
        for compiled in self.fields.values():
            try:
                compiled.apply(values)
            except FieldError as exc:
                found.append((exc.field, exc.reason))
        return found

    def record_problems(self, record: Any) -> list[tuple[str, str]]:
        if not isinstance(record, dict):
            problem = self.endpoint.check(record)
            return [(problem[0] or "record", problem[1])] if problem else []
        found: list[tuple[str, str]] = []
        probe = dict(record)
        for _ in range(MAX_ROUNDS):
            problem = self.endpoint.check(probe)
            if problem is None:
                break
            field, reason = problem
            if field is None or any(field == seen for seen, _ in found) or field not in probe:
                if (field or "record", reason) not in found:
                    found.append((field or "record", reason))
                break
            found.append((field, reason))
            del probe[field]
        return found
