"""The reject file on its own: append-only across runs, held until the mark passes, written once
across a resume, and able to write any record (defect 2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from engine.outcomes.reject_file import RejectFile
from engine.rows import Rejection


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reject(path: Path, run: str) -> RejectFile:
    return RejectFile(path, "members", frozenset({"name"}), reveal=False, run_id=run)


def test_a_second_run_appends_and_each_line_names_its_run_key_field_and_reason(
    tmp_path: Path,
) -> None:
    """Defect 2: the next run reopened the file with truncation; keys were always null."""
    path = tmp_path / "rejects.jsonl"
    for run in ("run-1", "run-2"):
        rejects = reject(path, run)
        rejects.write(Rejection(("m.csv", 3), "email: not an address", "email"), "m.csv:3", "M3")
        rejects.close()

    found = lines(path)
    assert [(line["run_id"], line["key"], line["field"]) for line in found] == [
        ("run-1", "M3", "email"),
        ("run-2", "M3", "email"),
    ]
    assert found[0]["reason"] == "email: not an address"


def test_a_line_waits_for_the_mark_and_reaches_the_disk_at_commit(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    rejects = reject(path, "run-1")
    rejects.write(Rejection(("m.csv", 9), "bad"), "m.csv:9", None, seq=8)

    rejects.release(below=8)
    rejects.commit()
    assert not path.exists()  # row 8 is not finished below the mark yet

    rejects.release(below=9)
    rejects.commit()
    assert [line["position"] for line in lines(path)] == ["m.csv:9"]
    rejects.close()


def test_a_resumed_run_does_not_write_again_what_was_written_after_the_saved_mark(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rejects.jsonl"
    first = reject(path, "run-1")
    first.write(Rejection(("m.csv", 2), "bad"), "m.csv:2", "M2")
    first.close()
    saved_at = dt.datetime.now(dt.UTC)
    after = reject(path, "run-1")  # the interrupted run, after its last save
    after.write(Rejection(("m.csv", 5), "bad"), "m.csv:5", "M5")
    after.close()

    resumed = reject(path, "run-2")
    resumed.resuming(saved_at)
    resumed.write(Rejection(("m.csv", 5), "bad"), "m.csv:5", "M5")  # read again after the mark
    resumed.write(Rejection(("m.csv", 7), "bad"), "m.csv:7", "M7")
    resumed.close()

    assert [line["position"] for line in lines(path)] == ["m.csv:2", "m.csv:5", "m.csv:7"]
    assert resumed.count == 2  # both counted for the report


def test_any_record_can_be_written_and_a_torn_last_line_is_cut_off_first(tmp_path: Path) -> None:
    """An integer past 64 bits in the record made the reject write itself fail. A last line a
    crash cut short used to be closed with a newline and stay in the middle of the file, where
    `rejects replay` (and any JSON Lines reader) refused it: it is cut off before the append."""
    path = tmp_path / "rejects.jsonl"
    whole = b'{"run_id": "old", "position": "m.csv:9"}\n'
    path.write_bytes(whole + b'{"run_id": "old", "torn')  # a crash mid-line
    rejects = reject(path, "run-1")
    record = {"member_sn": "M1", "points": 2**70, 3: "a non-text key"}
    rejects.write(Rejection(("m.csv", 2), "cannot be encoded", None, record), "m.csv:2", "M1")
    rejects.close()

    raw = path.read_bytes().splitlines(keepends=True)
    assert raw[0] == whole
    assert len(raw) == 2
    line = json.loads(raw[1])
    assert line["record"] == {"member_sn": "M1", "points": str(2**70), "3": "a non-text key"}


def test_a_whole_last_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    """A line written whole but for its newline counts as written (a resumed run skips its row):
    it gets its newline, and the next line starts on a line of its own."""
    path = tmp_path / "rejects.jsonl"
    path.write_bytes(b'{"run_id": "old", "position": "m.csv:9"}')
    rejects = reject(path, "run-1")
    rejects.write(Rejection(("m.csv", 2), "bad"), "m.csv:2", "M2")
    rejects.close()

    assert [line["position"] for line in lines(path)] == ["m.csv:9", "m.csv:2"]
