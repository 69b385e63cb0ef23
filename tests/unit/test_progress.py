"""The progress line's content; it is drawn only on a terminal."""

from __future__ import annotations

import io

from engine import progress
from engine.report import SyncStats


def test_line_shows_counts_rate_and_eta_when_the_total_is_known() -> None:
    """Half of 2,000 rows finished in 10 s: 100 records/s, ten more seconds to go."""
    stats = SyncStats("members", read=1500, delivered=990, rejected=10)
    text = progress.line(stats, 2000, elapsed=10.0)
    assert text == (
        "members: read 1,500/~2,000 (50% done), delivered 990, rejected 10, 100 records/s, "
        "ETA 0m10s"
    )
    assert "ETA" not in progress.line(stats, None, elapsed=10.0)


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    """Pipes and CI logs get no carriage-return noise."""
    assert not progress.wanted(io.StringIO())


def test_the_board_shows_every_running_sync_on_one_line() -> None:
    """Syncs run at once: one line names each running sync, and a finished one leaves it."""
    board = progress.Board()
    members, orders = SyncStats("members", read=10), SyncStats("orders", read=20)
    board.add(members, None)
    board.add(orders, 100)
    assert board.text().startswith("members: read 10, ")
    assert " | orders: read 20/~100 " in board.text()
    board.remove(members)
    assert board.text().startswith("orders: read 20/~100 ")
