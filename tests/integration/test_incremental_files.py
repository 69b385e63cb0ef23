"""Incremental reads of files (by modification time) and the refusal of cursors a source lacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile import load_spec
from tests.conftest import RunningSandbox
from tests.integration._sources import deliver, write_spec


def write_members(path: Path, start: int, count: int, mtime_ns: int) -> None:
    lines = ["id,name", *(f"M{i:06d},member {i}" for i in range(start, start + count))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


async def test_files_are_read_again_only_when_new_or_rewritten(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    second = 1_700_000_000 * 10**9
    write_members(exports / "a.csv", 0, 100, second)
    write_members(exports / "b.csv", 100, 50, second + 10**9)
    source = {"csv": {"path": "exports/*.csv"}}

    first = await deliver(tmp_path, source, sandbox_env, cursor="modified")
    assert first.syncs[0].read == 150

    nothing = await deliver(tmp_path, source, sandbox_env, cursor="modified")
    assert nothing.syncs[0].read == 0  # no file changed

    write_members(exports / "a.csv", 0, 120, second + 5 * 10**9)  # rewritten with 20 more rows
    write_members(exports / "c.csv", 500, 7, second + 6 * 10**9)  # new
    again = await deliver(tmp_path, source, sandbox_env, cursor="modified")
    assert again.syncs[0].read == 127
    assert again.syncs[0].resumed_from is not None
    assert "b.csv:" in again.syncs[0].resumed_from
    assert len(sandbox.records("audience")) == 157


@pytest.mark.parametrize(
    ("source", "incremental", "message"),
    [
        (
            "{csv: {path: m.csv}}",
            "{cursor: updated_at}",
            "the csv source has no cursor 'updated_at' (it understands: modified)",
        ),
        (
            "{s3: {url: 's3://b/p/'}}",
            "{cursor: updated_at}",
            "the s3 source has no cursor 'updated_at' (it understands: last_modified)",
        ),
        (
            "{csv: {path: m.csv}}",
            "{cursor: modified, lookback: 10m}",
            "the csv source cannot read again behind its mark: lookback is for sql",
        ),
    ],
)
def test_a_cursor_that_means_nothing_for_the_source_is_refused(
    tmp_path: Path, sandbox_env: dict[str, str], source: str, incremental: str, message: str
) -> None:
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        "version: 1\n"
        "omnisegment: {base_url: 'http://127.0.0.1:9', tid: OA-x, api_key: k}\n"
        "syncs:\n"
        "  - name: members\n"
        f"    source: {source}\n"
        f"    incremental: {incremental}\n"
        "    destination: {endpoint: audience, options: {merge_key: member_sn}}\n"
        "    mapping: {member_sn: id}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec, environ=sandbox_env)
    assert message in str(caught.value)
    assert "sync.yaml:6:" in str(caught.value)  # file and line of the cursor


def test_lookback_is_accepted_for_sql(tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    path = write_spec(tmp_path, {"sql": {"url": "sqlite:///x.db", "table": "t"}}, cursor="u")
    path.write_text(
        path.read_text().replace(
            "incremental: {cursor: u}", "incremental: {cursor: u, lookback: 10m}"
        )
    )
    spec = load_spec(path, environ=sandbox_env)
    assert spec.syncs[0].lookback == 600.0
    assert spec.syncs[0].change_detection is True


async def test_sql_lookback_reads_late_rows_and_sends_only_them(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A row committed late, with a cursor older than the mark, still arrives; rows read again
    within the lookback are not sent again."""
    import datetime as dt

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    table = sa.Table(
        "members",
        sa.MetaData(),
        sa.Column("id", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("updated_at", sa.DateTime),
    )
    base = dt.datetime(2024, 7, 1, 9, 0)

    def insert(rows: list[tuple[str, int]]) -> None:
        with engine.begin() as conn:
            conn.execute(
                table.insert(),
                [
                    {"id": i, "name": f"member {i}", "updated_at": base + dt.timedelta(seconds=s)}
                    for i, s in rows
                ],
            )

    try:
        with engine.begin() as conn:
            table.create(conn)
        insert([(f"M{i:04d}", i) for i in range(600)])  # one per second: 09:00:00 .. 09:09:59
        path = write_spec(tmp_path, {"sql": {"url": url, "table": "members"}}, cursor="updated_at")
        path.write_text(
            path.read_text().replace(
                "incremental: {cursor: updated_at}",
                "incremental: {cursor: updated_at, lookback: 2m}",
            )
        )
        spec = load_spec(path, environ=sandbox_env)
        from engine.run.runner import RunOptions, run_spec

        first = (await run_spec(spec, RunOptions())).syncs[0]
        assert (first.read, first.delivered) == (600, 600)

        insert(
            [("L0001", 590), ("L0002", 500), ("L0003", 100)]
        )  # late: 09:09:50, 09:08:20, 09:01:40
        second = (await run_spec(spec, RunOptions())).syncs[0]
        # read again: 09:07:59 onwards (120 s behind 09:09:59) = 121 old rows + 2 late ones
        assert (second.read, second.delivered, second.unchanged) == (123, 2, 121)
        assert {"L0001", "L0002"} <= set(sandbox.records("audience"))
        assert "L0003" not in sandbox.records("audience")  # older than the lookback: not read
    finally:
        engine.dispose()
