"""A reject file read back for `rejects replay`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from engine.errors import OmnisyncError
from engine.outcomes.reject_entries import read_entries


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
