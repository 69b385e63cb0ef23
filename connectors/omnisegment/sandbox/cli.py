"""`omnisync sandbox`: the local OmniSegment, standalone, for trying specs and for benchmarks.

The OmniSegment destination lists this command in its `cli_commands`, so this module is imported
whenever the CLI lists its commands: the aiohttp server and asyncio load only when the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from connectors.omnisegment.sandbox import SANDBOX_API_KEY, SANDBOX_TID
from engine.lazy import lazy_module

if TYPE_CHECKING:
    import asyncio

    from connectors.omnisegment.sandbox.server import SandboxServer
else:
    asyncio = lazy_module("asyncio")


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--tid", default=SANDBOX_TID, show_default=True)
@click.option(
    "--api-key",
    envvar="OMNISYNC_SANDBOX_API_KEY",
    default=SANDBOX_API_KEY,
    show_default="sandbox-api-key, or $OMNISYNC_SANDBOX_API_KEY",
)
@click.option(
    "--rate-limit",
    type=float,
    default=None,
    help="Requests in any sliding second per route and tid, counted at arrival; 429 past it.",
)
@click.option("--fail-ratio", type=float, default=0.0, help="Share answered 502/503/504.")
@click.option("--reset-ratio", type=float, default=0.0, help="Share of connections reset.")
@click.option("--seed", type=int, default=0, help="Seed of the fault injection.")
def sandbox(port: int, tid: str, api_key: str, **faults: Any) -> None:
    """Serve a local OmniSegment on 127.0.0.1 (Ctrl-C stops it)."""
    from connectors.omnisegment.sandbox.server import SandboxServer

    asyncio.run(_serve(SandboxServer(tid, api_key, port), faults))


def inspection_help(url: str, api_key: str) -> list[str]:
    """How to point a spec at the sandbox and check what arrived (docs/endpoints.md says the same)."""
    shown = api_key if api_key == SANDBOX_API_KEY else "the value of $OMNISYNC_SANDBOX_API_KEY"
    return [
        f"  api_key: {shown}",
        f"  in a spec: omnisegment: {{base_url: {url}, tid: <tid>, api_key: <api_key>}}",
        f"  records received: curl {url}/_sandbox/records/<endpoint>   (e.g. audience, purchase)",
        f"  counts:           curl {url}/_sandbox/stats",
    ]


async def _serve(server: SandboxServer, faults: dict[str, Any]) -> None:
    server.sandbox.configure(**faults)
    url = await server.start()
    tids = ", ".join(server.sandbox.tenants)
    click.echo(f"sandbox listening on {url} (tid {tids})", nl=True)
    for line in inspection_help(url, next(iter(server.sandbox.tenants.values()))):
        click.echo(line)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
