"""Stand-ins for an endpoint, the HTTP session and the pipeline, so delivery runs offline; time
is tests.conftest.FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.contracts import Answer, HttpRequest, Verdict
from engine.rows import Record

_VERDICTS = {
    200: Verdict.ACCEPTED,
    400: Verdict.REJECTED,
    403: Verdict.AUTH,
    429: Verdict.THROTTLED,
    503: Verdict.UNAVAILABLE,
}


class FakeEndpoint:
    """Payloads are dicts with an `id`; the status is the verdict, the body the message."""

    name = "fake"
    limiter_key = "fake"
    batch_size = 50
    rate_limit = 10.0
    personal_fields: frozenset[str] = frozenset()

    def check(self, payload: Any) -> tuple[str | None, str] | None:
        return None

    def key(self, payload: Any) -> str | None:
        return str(payload["id"])

    def build_request(self, payloads: list[Any]) -> HttpRequest:
        return HttpRequest("POST", "http://fake.invalid/import", orjson.dumps(payloads))

    def judge(self, status: int, body: bytes, headers: Mapping[str, str]) -> Answer:
        retry_after = headers.get("Retry-After")
        return Answer(
            _VERDICTS.get(status, Verdict.FAILED),
            body.decode() or f"HTTP {status}",
            float(retry_after) if retry_after is not None else None,
        )


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    async def read(self) -> bytes:
        return self.body


Answering = Callable[[list[Any]], Reply | Exception]


class FakeSession:
    """Answers each POST by looking at its payloads; `sent` keeps the ids of every request."""

    def __init__(self, answer: Answering) -> None:
        self.answer = answer
        self.sent: list[list[str]] = []

    def post(
        self, url: str, data: bytes, headers: Mapping[str, str], trace_request_ctx: Any = None
    ) -> Any:
        return self._exchange(orjson.loads(data))

    @asynccontextmanager
    async def _exchange(self, payloads: list[Any]) -> AsyncIterator[Reply]:
        self.sent.append([p["id"] for p in payloads])
        reply = self.answer(payloads)
        if isinstance(reply, Exception):
            raise reply
        yield reply


def scripted(*replies: Reply | Exception) -> Answering:
    """The replies in turn, whatever is sent; the last one repeats."""
    script = list(replies)
    return lambda _payloads: script.pop(0) if len(script) > 1 else script[0]


class Told:
    """What the bisector told the pipeline: (fate, payload id, message), in order."""

    def __init__(self) -> None:
        self.fates: list[tuple[str, str, str]] = []

    def delivered(self, records: list[Record]) -> None:
        self.fates += [("delivered", r.payload["id"], "") for r in records]

    def refused(self, record: Record, message: str) -> None:
        self.fates.append(("refused", record.payload["id"], message))

    def failed(self, records: list[Record]) -> None:
        self.fates += [("failed", r.payload["id"], "") for r in records]

    def ids(self, fate: str) -> list[str]:
        return [payload_id for kind, payload_id, _ in self.fates if kind == fate]


def records(*ids: str) -> list[Record]:
    return [Record({"id": payload_id}, (n,), n) for n, payload_id in enumerate(ids)]
