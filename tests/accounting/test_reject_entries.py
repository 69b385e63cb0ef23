"""A reject file read back for `rejects replay`, and the journal that keeps a replay's progress."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from engine.errors import OmnisyncError
from engine.outcomes.reject_entries import ResolvedJournal, read_entries


def entry(position: str, run: str = "run-1") -> bytes:
    return json.dumps({"run_id": run, "sync": "members", "position": position}).encode() + b"\n"


def test_a_last_line_cut_short_is_skipped_with_a_warning_naming_it(tmp_path: Path) -> None:
    """It used to refuse the whole file ("cut short?") until someone edited it by hand."""
    path = tmp_path / "rejects.jsonl"
    path.write_bytes(entry("m.csv:2") + b"\n" + entry("m.csv:3") + entry("m.csv:4")[:25])
    with capture_logs() as logs:
        found = read_entries(path)

    assert [e["position"] for e in found] == ["m.csv:2", "m.csv:3"]
    (warning,) = [e for e in logs if e["event"] == "reject_line_torn"]
    assert (warning["file"], warning["line"], warning["log_level"]) == (str(path), 4, "warning")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            entry("m.csv:2")[:25] + b"\n" + entry("m.csv:3"), ":1: not a reject", id="cut"
        ),
        pytest.param(
            entry("m.csv:2") + b"[1, 2]\n", ":2: not a reject entry (not a JSON", id="list"
        ),
        pytest.param(entry("m.csv:2") + b"{oops\n", ":2: not a reject entry", id="last-ended"),
    ],
)
def test_a_broken_line_that_is_not_the_unended_last_one_is_an_error_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "rejects.jsonl"
    path.write_bytes(content)
    with pytest.raises(OmnisyncError, match=f"^{re.escape(str(path) + message)}"):
        read_entries(path)


def test_a_killed_replay_s_marks_are_folded_in_only_for_the_entries_it_read(tmp_path: Path) -> None:
    """The journal resolves what the killed replay delivered; a run that appended the same row
    again afterwards (rejected again) keeps that new entry unresolved."""
    path = tmp_path / "rejects.jsonl"
    path.write_bytes(entry("m.csv:2") + entry("m.csv:3") + entry("m.csv:4"))
    journal = ResolvedJournal(path)
    journal.start(3)
    journal.add(["m.csv:2", "m.csv:4"])
    journal.close()  # killed here: nothing folded yet
    with path.open("ab") as handle:  # a run in between rejects row 4 again
        handle.write(entry("m.csv:4", run="run-2"))
    with journal.path.open("ab") as handle:  # and the kill cut the journal's next line short
        handle.write(b'{"resolved": ["m.csv:3"')

    assert ResolvedJournal(path).recover() == 2

    found = [(e["position"], e["run_id"], e.get("resolved", False)) for e in read_entries(path)]
    assert found == [
        ("m.csv:2", "run-1", True),
        ("m.csv:3", "run-1", False),
        ("m.csv:4", "run-1", True),
        ("m.csv:4", "run-2", False),
    ]
    assert not journal.path.exists()


def test_a_finished_replay_folds_its_journal_and_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    path.write_bytes(entry("m.csv:2") + entry("m.csv:3"))
    journal = ResolvedJournal(path)
    entries = read_entries(path)
    journal.start(len(entries))
    journal.add(["m.csv:3"])
    journal.finish(entries, set(), {})

    assert [e.get("resolved", False) for e in read_entries(path)] == [False, True]
    assert not journal.path.exists()
    assert ResolvedJournal(path).recover() == 0
