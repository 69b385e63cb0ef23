"""Issue #10's defects, each reproduced first: every row ends delivered, filtered or rejected with
its reason, and no single row stops a sync."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.csv import CsvSource
from connectors.file_identity import FileIdentity
from connectors.readers import CsvOptions, read_csv, read_jsonl
from engine.contracts import SourceContext
from tests.accounting.harness import (
    assert_accounted,
    members_sync,
    reject_lines,
    run,
)
from tests.conftest import RunningSandbox, require_service
from tests.integration._sources import collect

SERVERS = {
    "postgresql": ("PostgreSQL", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("MariaDB", 3306, "mysql+pymysql://root@127.0.0.1:3306/test"),
}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def members_table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url, table): five members, the third with an email the `email` transform refuses."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        name, port, url = SERVERS[request.param]
        require_service(name, "127.0.0.1", port)
    table_name = f"omnisync_d1_{uuid.uuid4().hex[:10]}"
    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_sn", sa.String(20)),
        sa.Column("email", sa.String(50)),
    )
    engine = sa.create_engine(url)
    rows = [
        {"id": i, "member_sn": f"M{i}", "email": "bad" if i == 3 else f"m{i}@example.com"}
        for i in range(1, 6)
    ]
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), rows)
        yield url, table_name
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()


async def test_d1_sql_table_source_rejects_a_row_and_delivers_the_others(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    members_table: tuple[str, str],
) -> None:
    """Defect 1: reflected column names (quoted_name) made the first reject stop the sync."""
    url, table = members_table
    mapping = "      member_sn: member_sn\n      email: {from: email, transforms: [email]}\n"
    sync = members_sync({"sql": {"url": url, "table": table}}, mapping=mapping)

    result = await run(tmp_path, sandbox_env, sync)

    stats = result.syncs[0]
    assert (stats.read, stats.delivered, stats.rejected, stats.stopped) == (5, 4, 1, None)
    assert sorted(sandbox.records("audience")) == ["M1", "M2", "M4", "M5"]
    (line,) = reject_lines(tmp_path)
    assert (line["field"], line["key"]) == ("email", "M3")
    assert line["run_id"]
    assert line["position"] == f"{table}[id=3]"
    assert_accounted(result, sandbox, tmp_path)


async def test_d6_an_integer_past_64_bits_rejects_its_row_not_the_batch(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 6: one huge integer (cast: int) made the whole batch, then the sync, fail."""
    lines = ["member_sn,points"] + [f"M{i},{i}" for i in range(1, 10)]
    lines[5] = "M5,123456789012345678901234567890"
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = (
        "      member_sn: member_sn\n      points: {from: points, transforms: [{cast: int}]}\n"
    )
    sync = members_sync({"csv": {"path": "m.csv"}}, mapping=mapping, extra=CUSTOM_POINTS)

    result = await run(tmp_path, sandbox_env, sync)

    stats = result.syncs[0]
    assert (stats.read, stats.delivered, stats.rejected, stats.stopped) == (9, 8, 1, None)
    assert "M5" not in sandbox.records("audience")
    (line,) = reject_lines(tmp_path)
    assert line["key"] == "M5"
    assert "64" in line["reason"] or "encode" in line["reason"]
    assert line["record"]["points"] == "123456789012345678901234567890"  # kept, as text
    assert_accounted(result, sandbox, tmp_path)


CUSTOM_POINTS = ", custom_fields: [points]"


def test_d6_jsonl_integers_past_64_bits_stay_integers() -> None:
    """Defect 6: orjson turned 123456789012345678901234567890 into a float, silently."""
    data = b'{"n": 123456789012345678901234567890, "s": "12345678901234567890"}\n{"n": NaN}\n'

    rows = list(read_jsonl(io.BytesIO(data)))

    assert rows[0] == (1, {"n": 123456789012345678901234567890, "s": "12345678901234567890"}, None)
    assert rows[1][1] is None
    assert "line 2: not valid JSON" in str(rows[1][2])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"member_sn,name\rM1,a\rM2,b\r", ["M1", "M2"], id="cr-only"),
        pytest.param(b"member_sn,name\nM1,a\r\nM2,b\rM3,c\n", ["M1", "M2", "M3"], id="mixed"),
        pytest.param(b"\xef\xbb\xbfmember_sn,name\nM1,a\n", ["M1"], id="bom-default-encoding"),
        pytest.param(b" member_sn , name\nM1,a\n", ["M1"], id="padded-header"),
        pytest.param(b'member_sn,name\r"M1","a\rb"\rM2,c\r', ["M1", "M2"], id="cr-inside-quotes"),
    ],
)
def test_d7_line_endings_bom_and_padded_headers(data: bytes, expected: list[str]) -> None:
    """Defect 7: CR-only lines stopped the sync, mixed endings lost rows, a BOM or padded header
    name made every row miss its member_sn."""
    notes: list[str] = []

    rows = list(read_csv(io.BytesIO(data), CsvOptions(), note=notes.append))

    assert [values["member_sn"] for _, values, _ in rows if values] == expected
    assert all(error is None for *_, error in rows)
    assert bool(notes) == (b" member_sn " in data)


def test_d7_an_unclosed_quote_rejects_its_line_and_the_rest_is_read() -> None:
    """The csv module would read the rest of the file as one field of one record."""
    data = b'member_sn,name\nM1,a\nM2,"b\nM3,c\nM4,d\n'

    rows = list(read_csv(io.BytesIO(data), CsvOptions()))

    assert [(n, v["member_sn"] if v else None) for n, v, _ in rows] == [
        (2, "M1"),
        (3, None),
        (4, "M3"),
        (5, "M4"),
    ]
    assert "never closed" in str(rows[1][2])


async def test_d8_a_blank_member_sn_is_rejected_here_not_by_the_api(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 8: a whitespace-only member_sn passed the local check and cost a 400."""
    (tmp_path / "m.csv").write_text("member_sn,name\nM1,a\n   ,b\n\t,c\nM4,d\n", encoding="utf-8")

    result = await run(tmp_path, sandbox_env, members_sync({"csv": {"path": "m.csv"}}))

    stats = result.syncs[0]
    assert (stats.delivered, stats.rejected) == (2, 2)
    assert "400" not in stats.requests.by_status
    assert {line["position"] for line in reject_lines(tmp_path)} == {"m.csv:3", "m.csv:4"}
    assert_accounted(result, sandbox, tmp_path)


async def test_d10_a_long_sync_name_gets_a_reject_file_that_fits(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 10: the reject file name of a 300-character sync name exceeded NAME_MAX."""
    name = "nightly_members_" + "x" * 284
    (tmp_path / "m.csv").write_text("member_sn,name\nM1,a\n ,b\n", encoding="utf-8")

    result = await run(tmp_path, sandbox_env, members_sync({"csv": {"path": "m.csv"}}, name=name))

    stats = result.syncs[0]
    assert (stats.delivered, stats.rejected, stats.stopped) == (1, 1, None)
    (written,) = (tmp_path / ".omnisync").glob("rejects-*.jsonl")
    assert len(written.name.encode()) <= 255
    assert written.read_text(encoding="utf-8").count(name) == 1


async def test_d3_a_file_replaced_since_the_stored_position_is_read_from_the_start(
    tmp_path: Path,
) -> None:
    """Defect 3: 500 rows inserted at the top after a crash were never sent (resumed by line)."""
    path = tmp_path / "m.csv"
    path.write_text("member_sn,name\n" + "".join(f"M{i},n\n" for i in range(1000)))
    stored = ("m.csv", 600, *FileIdentity.of(path).as_position())
    source = CsvSource({"path": "m.csv"}, SourceContext(tmp_path, "members"))
    assert len(await collect(source.read(stored))) == 401  # the same file resumes

    path.write_text(
        "member_sn,name\n"
        + "".join(f"N{i},n\n" for i in range(500))
        + "".join(f"M{i},n\n" for i in range(1000))
    )
    source = CsvSource({"path": "m.csv"}, SourceContext(tmp_path, "members"))
    rows = await collect(source.read(stored))

    assert len(rows) == 1500
    assert source.notes
    assert "m.csv changed since the stored position" in source.notes[0]


async def test_d3_a_file_that_only_grew_resumes_after_the_stored_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("member_sn,name\n" + "".join(f"M{i},n\n" for i in range(1000)))
    stored = ("m.csv", 601, *FileIdentity.of(path).as_position())
    with path.open("a") as handle:
        handle.write("".join(f"N{i},n\n" for i in range(10)))
    source = CsvSource({"path": "m.csv"}, SourceContext(tmp_path, "members"))

    rows = await collect(source.read(stored))

    assert len(rows) == 410
    assert not source.notes


async def test_d7_padded_header_names_are_trimmed_with_a_note_in_the_report(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Defect 7: ` member_sn ` rejected every row as 'member_sn is required'."""
    (tmp_path / "m.csv").write_bytes(b"\xef\xbb\xbf member_sn , name\rM1,a\rM2,b\r")

    result = await run(tmp_path, sandbox_env, members_sync({"csv": {"path": "m.csv"}}))

    stats = result.syncs[0]
    assert (stats.delivered, stats.rejected) == (2, 0)
    assert any("header names trimmed of spaces: ' member_sn '" in note for note in stats.notes)
    assert_accounted(result, sandbox, tmp_path)
