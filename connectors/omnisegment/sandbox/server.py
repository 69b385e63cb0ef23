"""The sandbox's aiohttp application: routes served, records kept, throttling and fault injection.

It keeps what it accepted (upserted by record key, as the real API does), counts every request, and
can throttle (429 past a rate) and inject faults (502/503/504, connection resets) for tests and
benchmarks. What each route accepts is routes.py's business.

Control API for tests: GET /_sandbox/records/{endpoint}, GET /_sandbox/stats,
GET /_sandbox/counts/{endpoint} (events: arrivals per key, `node:member` for workflow triggers),
POST /_sandbox/reset,
POST /_sandbox/config {rate_limit, fail_ratio, reset_ratio, seed, reject_keys, and the fault
suite's hang_after, answer_status, html_ratio, false_ratio, lost_ack_ratio, truncated_ratio;
answer_delay: seconds between storing and answering}.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from connectors.omnisegment.sandbox import SANDBOX_API_KEY, SANDBOX_TID, faults
from connectors.omnisegment.sandbox.rate import ArrivalWindows
from connectors.omnisegment.sandbox.routes import ROUTES, RouteCheck


@dataclass
class SandboxConfig:
    """The sandbox's misbehaviour, set by tests and benchmarks through /_sandbox/config."""

    # requests in any sliding second per route and tid, counted at arrival; None = unlimited
    rate_limit: float | None = None
    fail_ratio: float = 0.0  # share of requests answered 502/503/504
    reset_ratio: float = 0.0  # share of connections reset before answering
    seed: int = 0
    reject_keys: str | None = None  # regex: records whose key matches are refused with a 400
    # the fault suite's (faults.py): silence after N requests, one status for all, HTML 500
    # pages, 200 with SUCCESS false; after storing: the acknowledgement dropped or cut short
    hang_after: int | None = None
    answer_status: int | None = None
    html_ratio: float = 0.0
    false_ratio: float = 0.0
    lost_ack_ratio: float = 0.0
    truncated_ratio: float = 0.0
    answer_delay: float = 0.0  # seconds between storing a request's records and answering it


@dataclass
class SandboxState:
    """What the sandbox accepted and answered, for tests to compare with what was sent."""

    records: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    received: Counter[str] = field(default_factory=Counter)  # records accepted, per endpoint
    requests: Counter[str] = field(default_factory=Counter)  # requests per "path status"
    order: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, key) as accepted
    windows: ArrivalWindows = field(default_factory=ArrivalWindows)  # arrivals per route#tid
    # events (workflow triggers): how many times each key arrived, per endpoint
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def stats(self) -> dict[str, Any]:
        """Requests, records received and stored, and the busiest second per route#tid (most
        requests that arrived in any sliding second), as /_sandbox/stats serves them."""
        return {
            "requests": dict(self.requests),
            "received": dict(self.received),
            "stored": {name: len(rows) for name, rows in self.records.items()},
            "busiest_second": dict(self.windows.busiest),
        }


def _error(status: int, err_type: str, message: str) -> web.Response:
    body = {
        "SUCCESS": False,
        "ERR_MSG": f"{err_type}: {message}",
        "ERR_TYPE_KEY": err_type,
        "ERR_MSG_KEY": None,
        "EXTRA_INFO": None,
        "INTP_KEY": {},
        "INTP_VALUE": {},
    }
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


class Sandbox:
    """The aiohttp application and its state; several tids may be registered."""

    def __init__(self, tid: str = SANDBOX_TID, api_key: str = SANDBOX_API_KEY) -> None:
        self.tenants = {tid: api_key}
        self.state = SandboxState()
        self.config = SandboxConfig()
        self._random = random.Random(0)
        self.arrived = 0  # import requests seen since the last configure (hang_after)
        self.silence_over = asyncio.Event()  # set: requests held by hang_after are let go

    def app(self) -> web.Application:
        """A fresh aiohttp application serving the import routes and the control API."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        for check in ROUTES:
            app.router.add_post(check.path, self._handler(check))
        app.router.add_get("/_sandbox/records/{endpoint}", self._records)
        app.router.add_get("/_sandbox/counts/{endpoint}", self._counts)
        app.router.add_get("/_sandbox/stats", self._stats)
        app.router.add_post("/_sandbox/reset", self._reset)
        app.router.add_post("/_sandbox/config", self._configure)
        return app

    def configure(self, **changes: Any) -> None:
        """Change SandboxConfig fields by name; the fault injection restarts from its seed."""
        for key, value in changes.items():
            if not hasattr(self.config, key):
                raise ValueError(f"unknown sandbox setting {key!r}")
            setattr(self.config, key, value)
        self._random = random.Random(self.config.seed)
        self.arrived = 0
        self.silence_over.set()
        self.silence_over = asyncio.Event()

    def reset(self) -> None:
        """Forget every record, count and rate window: a clean sandbox for the next test."""
        self.state = SandboxState()

    # -- the import routes -------------------------------------------------------------------

    def _handler(self, check: RouteCheck) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            response = await self._answer(check, request, time.monotonic())
            self.state.requests[f"{check.path} {response.status}"] += 1
            return response

        return handle

    async def _answer(
        self, check: RouteCheck, request: web.Request, arrived: float
    ) -> web.StreamResponse:
        config = self.config
        self.arrived += 1
        fault = await faults.before_storing(
            config, self._random, self.arrived - 1, self.silence_over, request
        )
        if fault is not None:
            return fault
        if config.reset_ratio and self._random.random() < config.reset_ratio:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=599)  # never reaches the client
        if config.fail_ratio and self._random.random() < config.fail_ratio:
            status = self._random.choice((502, 503, 504))
            return web.Response(status=status, text="<html>upstream trouble</html>")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _error(400, "Input Error", "request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "Input Error", "request body must be a JSON object")
        if check.auth == "header":
            tid = request.query.get("tid")
            key = request.headers.get("X-OmniSegment-Api-Key")
        elif check.auth == "beacon":
            tid = body.get("tid")
            key = request.headers.get("X-OmniSegment-Api-Key")
            if not tid:
                return _error(400, *(check.validate(body) or ("Missing Input Error", "tid")))
        else:
            tid, key = body.get("tid"), body.get("api_key")
        denied = self._authorise(check, tid, key)
        if denied is not None:
            return denied
        bucket, windows = f"{check.path}#{tid}", self.state.windows
        if not windows.admit(bucket, arrived, config.rate_limit):
            assert config.rate_limit is not None  # only a rate refuses
            response = _error(429, "Too Many Requests", "rate limit exceeded")
            wait = windows.retry_after(bucket, arrived, config.rate_limit)
            response.headers["Retry-After"] = str(wait)
            return response
        problem = check.validate(body) or self._refused(check, body)
        if problem is not None:
            return _error(400, *problem)
        for key_value, record in check.records(body):
            self.state.records[check.endpoint][key_value] = record
            self.state.order.append((check.endpoint, key_value))
            self.state.received[check.endpoint] += 1
            if check.counts:
                self.state.counts[check.endpoint][key_value] += 1
        if config.answer_delay:  # stored, not answered yet: what a kill in flight finds
            await asyncio.sleep(config.answer_delay)
        lost = faults.after_storing(config, self._random, request, check.success)
        if lost is not None:
            return lost
        return web.Response(body=orjson.dumps(check.success), content_type="application/json")

    def _refused(self, check: RouteCheck, body: dict[str, Any]) -> tuple[str, str] | None:
        """Fault injection: a record the server refuses although it looks valid to the client."""
        pattern = self.config.reject_keys
        if not pattern:
            return None
        for i, (key, _record) in enumerate(check.records(body)):
            if re.search(pattern, key):
                where = "data" if check.cap == 1 else f"data[{i}]"
                return "Input Error", f"{where} was refused by the server"
        return None

    def _authorise(self, check: RouteCheck, tid: Any, key: Any) -> web.Response | None:
        if check.auth == "body" and (not tid or not key):
            return _error(400, "Missing Input Error", check.missing_message)
        if self.tenants.get(tid) != key or not key:
            which = "api_key or tid" if check.auth == "body" else "X-OmniSegment-Api-Key"
            return _error(403, "Forbidden", f"invalid {which}")
        return None

    # -- the control API ---------------------------------------------------------------------

    async def _records(self, request: web.Request) -> web.Response:
        rows = self.state.records.get(request.match_info["endpoint"], {})
        return web.Response(body=orjson.dumps(rows), content_type="application/json")

    async def _counts(self, request: web.Request) -> web.Response:
        """Events only (workflow triggers): how many times each key arrived (node:member)."""
        counts = self.state.counts.get(request.match_info["endpoint"], Counter())
        return web.Response(body=orjson.dumps(dict(counts)), content_type="application/json")

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.state.stats()), content_type="application/json")

    async def _reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _configure(self, request: web.Request) -> web.Response:
        try:
            self.configure(**(await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})


class SandboxServer:
    """Runs a Sandbox on 127.0.0.1 inside the current event loop."""

    def __init__(
        self, tid: str = SANDBOX_TID, api_key: str = SANDBOX_API_KEY, port: int = 0
    ) -> None:
        self.sandbox = Sandbox(tid, api_key)
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port when 0) and return the base URL."""
        self._runner = web.AppRunner(self.sandbox.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """Close the listener and its connections; stopping twice is harmless."""
        self.sandbox.silence_over.set()  # a silent request would hold the shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
