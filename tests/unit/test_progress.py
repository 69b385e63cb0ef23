"""The progress line's content; it is drawn only on a terminal."""

from __future__ import annotations

import io
import sys

import pytest

from engine.delivery.counts import Wait
from engine.logging import StatusLine
from engine.outcomes import progress
from engine.outcomes.report import SyncStats


def test_line_shows_counts_rate_and_eta_when_the_total_is_known() -> None:
    """Half of 2,000 rows finished in 10 s: 100 records/s, ten more seconds to go."""
    stats = SyncStats("members", read=1500, delivered=990, rejected=10)
    text = progress.line(stats, 2000, elapsed=10.0)
    assert text == (
        "members: read 1,500/~2,000 (50% done), delivered 990, unchanged 0, filtered 0, rejected 10, "
        "100 records/s, ETA 0m10s"
    )
    assert "ETA" not in progress.line(stats, None, elapsed=10.0)


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    """Pipes and CI logs get no carriage-return noise."""
    assert not progress.wanted(io.StringIO())


def test_the_request_rate_is_shown_against_the_limit() -> None:
    stats = SyncStats("members", read=100, delivered=100)
    stats.requests.requests = 40
    assert progress.line(stats, None, elapsed=10.0, limit=5.0).endswith(
        ", 10 records/s, 4.0/5 requests/s"
    )


def test_a_retry_wait_leads_the_line_with_its_countdown() -> None:
    stats = SyncStats("members", read=100, delivered=50)
    stats.requests.waits[1] = Wait(until=1000.0 + 252, status="503", attempt=1, attempts=5)
    stats.requests.waits[2] = Wait(until=1000.0 + 290, status="503", attempt=1, attempts=5)
    text = progress.line(stats, None, elapsed=10.0, now=1000.0)
    assert text.startswith(
        "members: waiting 4m12s: 2 batches answered 503 (retry 1 of 5); read 100"
    )


def test_a_log_line_erases_the_status_line_and_it_is_drawn_again_below(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    terminal = StatusLine()
    terminal.show("members: read 10")
    print("event=retrying", file=terminal)  # as structlog's PrintLogger writes
    terminal.end()
    assert screen.getvalue() == (
        "\r\x1b[Kmembers: read 10\r\x1b[Kevent=retrying\nmembers: read 10\n"
    )


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
