"""The sandbox's odder faults, for the fault suite: a bad day at the API, reproducible by seed.

Before anything is stored: a server that stops answering, a fixed status for every request (404
for a wrong path, 405, ...), an HTML error page, `200` with `SUCCESS: false`. After the records are
stored: the acknowledgement lost (connection dropped) or cut short (truncated JSON), so a client
that retries sends records the server already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any, Protocol

import orjson
from aiohttp import web

HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status}</title></head>"
    "<body><h1>{status}</h1><p>nginx</p></body></html>"
)
SILENCE = 3600.0  # seconds a silent server holds a request (the client's timeout ends it first)


class Faults(Protocol):
    hang_after: int | None
    answer_status: int | None
    html_ratio: float
    false_ratio: float
    lost_ack_ratio: float
    truncated_ratio: float


def html(status: int) -> web.Response:
    return web.Response(
        status=status, text=HTML_PAGE.format(status=status), content_type="text/html"
    )


async def before_storing(
    config: Faults,
    rng: random.Random,
    answered: int,
    silence_over: asyncio.Event,
    request: web.Request,
) -> web.StreamResponse | None:
    """A fault that answers instead of the route, or None to go on."""
    if config.hang_after is not None and answered >= config.hang_after:
        # silent until the sandbox is reconfigured or stopped (or SILENCE passes); then the
        # connection is dropped and the request never counted, so the next test starts clean
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(silence_over.wait(), SILENCE)
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if config.answer_status:
        return html(config.answer_status)
    if config.html_ratio and rng.random() < config.html_ratio:
        return html(500)
    if config.false_ratio and rng.random() < config.false_ratio:
        body = {"SUCCESS": False, "ERR_MSG": "Internal Error: please try again later"}
        return web.Response(body=orjson.dumps(body), content_type="application/json")
    return None


def after_storing(
    config: Faults, rng: random.Random, request: web.Request, success: Any
) -> web.StreamResponse | None:
    """The records are stored; the acknowledgement may still not arrive whole."""
    if config.lost_ack_ratio and rng.random() < config.lost_ack_ratio:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=599)  # never reaches the client
    if config.truncated_ratio and rng.random() < config.truncated_ratio:
        text = orjson.dumps(success)
        return web.Response(body=text[: len(text) // 2], content_type="application/json")
    return None
