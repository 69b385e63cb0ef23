"""Run a blocking row iterator in one dedicated thread, a chunk of rows per hop.

File parsing, S3 reads and database cursors block; the event loop must stay free for the delivery
workers. One thread per read (not the shared pool) because some drivers (sqlite3) insist that a
connection is used by the thread that opened it.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Generator
from typing import TYPE_CHECKING, TypeVar

from engine.lazy import lazy_module

if TYPE_CHECKING:
    import asyncio
    from concurrent import futures
else:  # a source module is imported to check a spec, which needs neither
    asyncio = lazy_module("asyncio")
    futures = lazy_module("concurrent.futures")

T = TypeVar("T")

CHUNK = 1000


async def iterate_in_thread(
    make: Callable[[], Generator[T, None, None]], chunk: int = CHUNK
) -> AsyncIterator[T]:
    """Items of `make()`, fetched `chunk` at a time off the loop; the generator is closed in its thread."""
    loop = asyncio.get_running_loop()
    with futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="omnisync-source") as thread:
        items = await loop.run_in_executor(thread, make)
        try:
            while True:
                batch = await loop.run_in_executor(thread, _take, items, chunk)
                for item in batch:
                    yield item
                if len(batch) < chunk:
                    return
        finally:
            # queued behind any chunk still being read, so never "generator already executing"
            await loop.run_in_executor(thread, items.close)


def _take(items: Generator[T, None, None], count: int) -> list[T]:
    return list(itertools.islice(items, count))
