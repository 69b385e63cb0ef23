"""One rate budget across processes: real `omnisync run` processes on one account, sharing the
sandbox's 10 requests per second through a PostgreSQL table, an S3 bucket (moto server) or the
SQLite file (when asked). Observed through the sandbox's counts and the store's member records,
never through time."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.state.base import StateContext
from engine.state.budget import BudgetBoard, Table, budget_id
from engine.state.postgres import PostgresStateStore
from engine.state.s3 import S3StateStore
from engine.state.sqlite import SqliteStateStore
from tests.conftest import RunningSandbox
from tests.integration._state_backends import (
    Backend,
    drop_postgres_tables,
    make_backend,
    moto_url,
)
from tests.integration.test_signals import start
from tests.sandbox_specs import DELIVERY_SPEC, members_spec

__all__ = ["moto_url"]  # the fixture, imported for pytest

FACTORIES: dict[str, Any] = {
    "sqlite": SqliteStateStore,
    "postgres": PostgresStateStore,
    "s3": S3StateStore,
}


@pytest.fixture(params=["postgres", "s3", "sqlite"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    moto = request.getfixturevalue("moto_url") if request.param == "s3" else None
    made = make_backend(request.param, tmp_path, moto)
    for name, value in made.env.items():  # the test reads the store too
        monkeypatch.setenv(name, value)
    if made.name == "sqlite":
        made.block["shared_budget"] = True  # a local file shares only when asked
    yield made
    if made.name == "postgres":
        drop_postgres_tables(made.block["table"])
        drop_postgres_tables(made.block["table"] + "_budgets")


def board_of(backend: Backend, tmp_path: Path) -> BudgetBoard:
    block = {k: v for k, v in backend.block.items() if k != "backend"}
    config = {k: backend.env.get(v[2:-1], v) if isinstance(v, str) else v for k, v in block.items()}
    board: BudgetBoard = FACTORIES[backend.name](config, StateContext(tmp_path)).budgets()
    return board


def only_budget(board: BudgetBoard, backend: Backend) -> Table:
    """The members of the one budget these tests use ({} before anyone joined)."""
    return board.members(budget_id(BUDGET[backend.name]))


BUDGET: dict[str, str] = {}  # backend -> the limiter key of the sandbox's audience route


def job(tmp_path: Path, name: str, backend: Backend, rows: int, rate: str = "10/s") -> Path:
    """A spec of its own (own CSV, own name: own state lock) on the shared store and account."""
    directory = tmp_path / name
    directory.mkdir()
    with (directory / "members.csv").open("w", encoding="utf-8") as handle:
        handle.write("id,name,email\n")
        for i in range(rows):
            handle.write(f"{name}-{i:06d},member {i},m{i}@example.com\n")
    text = members_spec(
        DELIVERY_SPEC.format(delivery=f"{{rate_limit: {rate}}}"),
        top=f"state: {backend.yaml()}\n",
    )
    (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory / f"{name}.yaml"


def audience_key(sandbox: RunningSandbox) -> str:
    """The budget every job here shares: the sandbox's audience route for the test tid."""
    from connectors.omnisegment.destination import OmniSegmentDestination

    destination = OmniSegmentDestination(
        {"base_url": sandbox.url, "tid": "OA-test", "api_key": "k"}
    )
    endpoint = destination.endpoint({"endpoint": "audience", "options": {"merge_key": "x"}})
    return str(endpoint.limiter_key)


def test_three_processes_on_one_account_share_its_rate_and_deliver_everything(
    backend: Backend, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    sandbox.configure(rate_limit=10)
    specs = [job(tmp_path, f"p{i}", backend, rows=600) for i in range(3)]
    env = {**sandbox_env, **backend.env}
    running = [start(spec, env) for spec in specs]
    BUDGET[backend.name] = audience_key(sandbox)
    board = board_of(backend, tmp_path)
    joined = wait_until(
        "three members at once", lambda: len(t := only_budget(board, backend)) == 3 and t
    )
    outputs = [process.communicate(timeout=240) for process in running]
    for process, (_, err) in zip(running, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
    stored = sandbox.records("audience")
    for i in range(3):
        assert all(f"p{i}-{n:06d}" in stored for n in range(600))
    statuses = sandbox.stats()["requests"]
    assert isinstance(statuses, dict)
    assert not [key for key in statuses if key.endswith(" 429")], statuses
    assert sum(statuses.values()) == 3 * 12  # 600 rows in batches of 50, nothing sent twice
    try:  # every process left: none holds a grant (leavers stay listed for a window)
        assert all(m.grant == 0 for m in only_budget(board, backend).values())
        assert len(joined) == 3
    finally:
        board.close()


def wait_until(what: str, check: Any, seconds: float = 90.0) -> Any:
    """Poll the store until `check()` returns something true (bounded, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never: {what}")


def test_a_killed_process_share_returns_to_the_other_within_its_lease(
    backend: Backend, tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    sandbox.configure(rate_limit=10)
    BUDGET[backend.name] = audience_key(sandbox)
    env = {**sandbox_env, **backend.env}
    running = [start(job(tmp_path, f"p{i}", backend, rows=20_000), env) for i in range(2)]
    board = board_of(backend, tmp_path)
    try:
        halves = wait_until(
            "two members with half the budget each",
            lambda: (
                (t := only_budget(board, backend))
                and len(t) == 2
                and sorted(m.grant for m in t.values()) == [5, 5]
                and t
            ),
        )
        victim, survivor = running
        dead = next(name for name in halves if f":{victim.pid}:" in name)
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
        whole = wait_until(
            "the survivor holding the whole budget",
            lambda: (
                (t := only_budget(board, backend))
                and dead not in t
                and [m.grant for m in t.values()] == [10]
                and t
            ),
        )
        assert f":{survivor.pid}:" in next(iter(whole))
        survivor.send_signal(signal.SIGTERM)
        _, err = survivor.communicate(timeout=60)
        assert survivor.returncode == 143, err[-2000:]
        statuses = sandbox.stats()["requests"]
        assert isinstance(statuses, dict)
        assert not [key for key in statuses if key.endswith(" 429")], statuses
    finally:
        board.close()
        for process in running:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.mark.parametrize("name", ["postgres", "sqlite"])
def test_an_account_said_to_be_alone_shares_nothing(
    name: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
) -> None:
    """`shared_budget: false` (and SQLite by default): no member record is ever written."""
    made = make_backend(name, tmp_path)
    if name == "postgres":
        made.block["shared_budget"] = False
    try:
        spec = job(tmp_path, "alone", made, rows=200, rate="1000/s")
        process = start(spec, {**sandbox_env, **made.env})
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert len(sandbox.records("audience")) == 200
        assert not table_exists(made, tmp_path)
    finally:
        if name == "postgres":
            drop_postgres_tables(made.block["table"])


def table_exists(backend: Backend, tmp_path: Path) -> bool:
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(tmp_path / "state.db") as db:
            found = db.execute("SELECT name FROM sqlite_master WHERE name = 'budgets'").fetchall()
        return bool(found)
    import psycopg

    from tests.integration._state_backends import PG_URL

    with psycopg.connect(PG_URL, autocommit=True) as db:
        row = db.execute("SELECT to_regclass(%s)", (backend.block["table"] + "_budgets",))
        return row.fetchone() not in (None, (None,))


def test_shared_budget_true_on_a_backend_without_a_board_is_refused() -> None:
    from engine.state.base import StateError
    from engine.state.budget import shared_board

    class Plain:
        def describe(self) -> str:
            return "plugin store"

    with pytest.raises(StateError, match="cannot share rate budgets"):
        shared_board(Plain(), {"shared_budget": True})
    assert shared_board(Plain(), {}) is None
