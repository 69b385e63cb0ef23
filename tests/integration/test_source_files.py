"""Local csv, jsonl and parquet sources through the real pipeline to the sandbox."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.csv import CsvSource
from connectors.file_identity import FileIdentity
from connectors.jsonl import JsonlSource
from connectors.parquet import ParquetSource
from engine.contracts import SourceContext
from engine.rows import Position
from tests.conftest import RunningSandbox
from tests.integration._sources import deliver, first_and_count, member, rejects

ROWS = 100_000


def write_csv(path: Path, start: int, count: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name"])
    for i in range(start, start + count):
        writer.writerow(member(i))
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def write_jsonl(path: Path, count: int) -> None:
    with path.open("wb") as handle:
        for i in range(count):
            sn, name = member(i)
            handle.write(orjson.dumps({"id": sn, "name": name, "n": i}) + b"\n")


def write_parquet(path: Path, count: int) -> None:
    ids, names = zip(*(member(i) for i in range(count)), strict=True)
    table = pa.table({"id": list(ids), "name": list(names), "n": list(range(count))})
    pq.write_table(table, path, row_group_size=10_000)


def context(tmp_path: Path) -> SourceContext:
    return SourceContext(tmp_path, "members")


def at(directory: Path, name: str, number: int) -> Position:
    """A stored position in `name` as the file is now: (path, number, *identity)."""
    return (name, number, *FileIdentity.of(directory / name).as_position())


async def test_csv_gz_glob_delivers_every_row_and_resumes_after_a_position(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Two gzipped files matched by a glob: 100,000 rows arrive; a resume reads only what follows."""
    write_csv(tmp_path / "members-1.csv.gz", 0, 60_000)
    write_csv(tmp_path / "members-2.csv.gz", 60_000, 40_000)

    result = await deliver(tmp_path, {"csv": {"path": "members-*.csv.gz"}}, sandbox_env)

    assert [s.as_dict()["delivered"] for s in result.syncs] == [ROWS]
    stored = sandbox.records("audience")
    assert len(stored) == ROWS
    assert stored["M099999"] == {"member_sn": "M099999", "name": "會員99999"}

    source = CsvSource({"path": "members-*.csv.gz"}, context(tmp_path))
    first, count, last = await first_and_count(
        source.read(at(tmp_path, "members-1.csv.gz", 59_001))
    )
    assert first is not None
    assert first.values == {"id": "M059000", "name": "會員59000"}
    assert first.position[:2] == ("members-1.csv.gz", 59_002)
    assert (count, last[:2]) == (41_000, ("members-2.csv.gz", 40_001))


async def test_jsonl_delivers_every_row_and_resumes(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """100,000 JSON lines arrive; resuming after line 70,000 yields lines 70,001 onwards."""
    write_jsonl(tmp_path / "members.jsonl", ROWS)

    await deliver(tmp_path, {"jsonl": {"path": "members.jsonl"}}, sandbox_env)

    assert len(sandbox.records("audience")) == ROWS
    source = JsonlSource({"path": "members.jsonl"}, context(tmp_path))
    first, count, _ = await first_and_count(source.read(at(tmp_path, "members.jsonl", 70_000)))
    assert first is not None
    assert first.values == {"id": "M070000", "name": "會員70000", "n": 70_000}
    assert count == 30_000


async def test_parquet_delivers_every_row_and_resumes_inside_a_row_group(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """100,000 Parquet rows in 10 row groups arrive; a resume at row 25,000 starts at row 25,001."""
    write_parquet(tmp_path / "members.parquet", ROWS)

    await deliver(tmp_path, {"parquet": {"path": "members.parquet"}}, sandbox_env)

    assert len(sandbox.records("audience")) == ROWS
    source = ParquetSource({"path": "members.parquet"}, context(tmp_path))
    first, count, last = await first_and_count(source.read(at(tmp_path, "members.parquet", 25_000)))
    assert first is not None
    assert first.values == {"id": "M025000", "name": "會員25000", "n": 25_000}
    assert first.position[:2] == ("members.parquet", 25_001)
    assert (count, last[:2]) == (75_000, ("members.parquet", ROWS))


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("big5", ["陳小明", "林美玲", "張志豪"]),
        ("cp950", ["黃淑芬", "吳建宏", "許雅婷"]),
        ("cp932", ["山田太郎", "佐藤花子", "髙橋①"]),
        ("shift_jis", ["鈴木一郎", "田中さくら", "ｶﾀｶﾅ"]),
    ],
)
async def test_legacy_encodings_deliver_the_right_names(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    encoding: str,
    names: list[str],
) -> None:
    """Big5/cp950 Chinese and Shift-JIS/cp932 Japanese names arrive as the same Unicode text."""
    lines = ["會員編號;姓名"] if encoding.startswith(("big5", "cp950")) else ["会員番号;氏名"]
    lines += [f"P{i};{name}" for i, name in enumerate(names)]
    (tmp_path / "people.csv").write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    header = lines[0].split(";")
    block = {
        "csv": {
            "path": "people.csv",
            "encoding": encoding,
            "delimiter": ";",
            "rename": {header[0]: "id", header[1]: "name"},
        }
    }

    result = await deliver(tmp_path, block, sandbox_env)

    assert result.syncs[0].rejected == 0
    stored = sandbox.records("audience")
    assert {k: v["name"] for k, v in stored.items()} == {
        f"P{i}": name for i, name in enumerate(names)
    }


async def test_malformed_and_undecodable_rows_are_rejected_with_file_and_line(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """A row with an extra column and a line of bad Big5 bytes are rejected; the others arrive."""
    good = "id,name\r\nA1,王大明\r\nA2,李小華\r\n".encode("big5")
    extra = "A3,陳,多一欄\r\n".encode("big5")
    quoted = '"A4","多行\r\n名字"\r\n'.encode("big5")
    broken = b"A5,\xff\xfe\xfa\r\n"
    tail = "A6,林志玲\r\n".encode("big5")
    (tmp_path / "bad.csv").write_bytes(good + extra + quoted + broken + tail)

    result = await deliver(tmp_path, {"csv": {"path": "bad.csv", "encoding": "big5"}}, sandbox_env)

    stats = result.syncs[0].as_dict()
    assert (stats["rows_read"], stats["delivered"], stats["rejected"]) == (6, 4, 2)
    assert sorted(sandbox.records("audience")) == ["A1", "A2", "A4", "A6"]
    assert sandbox.records("audience")["A4"]["name"] == "多行\r\n名字"
    found = {r["position"]: r["reason"] for r in rejects(tmp_path)}
    assert found == {
        "bad.csv:4": "line 4: expected 2 columns, found 3",
        "bad.csv:7": "line 7: not valid big5 (byte 0xff at column 4)",
    }


async def test_parquet_resume_across_row_groups_of_unequal_size(tmp_path: Path) -> None:
    """A short last row group after the resume point is still read (not skipped as 'before')."""
    write_parquet(tmp_path / "m.parquet", 25_000)  # row groups: 10,000, 10,000, 5,000
    source = ParquetSource({"path": "m.parquet"}, context(tmp_path))

    first, count, last = await first_and_count(source.read(at(tmp_path, "m.parquet", 12_000)))

    assert first is not None
    assert first.values == {"id": "M012000", "name": "會員12000", "n": 12_000}
    assert (count, last[:2]) == (13_000, ("m.parquet", 25_000))
