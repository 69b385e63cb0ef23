"""The run page without a browser: escaped text, no script or outside resource, the figures drawn
from the report's figures (the page in Chromium: tests/integration/test_html_report.py)."""

from __future__ import annotations

from engine.outcomes.html_report import render
from engine.outcomes.report import SyncOutcome, SyncStats


def _outcome() -> SyncOutcome:
    stats = SyncStats("<members>", read=12, delivered=9, rejected=3, rate_limit=10.0)
    stats.reject_reasons = {"email: … is not an email address": 3}
    stats.requests.timeline = {1000: [4, 0, 0], 1001: [10, 2, 2], 1003: [3, 0, 0]}
    return SyncOutcome("specs/members.yaml", stats, 3, "out/rejects.jsonl")


def test_the_page_holds_every_figure_and_nothing_to_fetch() -> None:
    page = render([_outcome()], {"run_id": "abc123", "specs": ["specs/members.yaml"]}, 3)

    assert page.startswith("<!doctype html>")
    assert "<title>omnisync run abc123: exit 3</title>" in page
    assert "&lt;members&gt;" in page
    assert "<members>" not in page  # a sync's name is text, never markup
    for absent in ("<script", "src=", "href=", "@import", "url("):
        assert absent not in page
    assert "<title>delivered: 9</title>" in page
    assert "<title>rejected: 3</title>" in page
    assert "<td>email: … is not an email address</td><td>3</td>" in page
    assert "requests per second (limit 10/s)" in page
    assert page.count("class='throttled'") == 1  # one second had 429s
    assert page.count("class='retry-wait'") == 1
    assert ">3s</text>" in page  # the time axis spans the seconds with answers


def test_a_sync_without_requests_says_so() -> None:
    page = render([SyncOutcome("s.yaml", SyncStats("members"), 0)], {}, 0)

    assert "<p>no request</p>" in page
    assert "no row was rejected" in page


def test_the_history_page_draws_runs_oldest_first_and_says_what_did_not_finish() -> None:
    from engine.outcomes.history_html import render as history_page

    counts = {"read": 3, "new": 1, "changed": 1, "unchanged": 1, "left_source": 2}
    runs = [  # newest first, as `history --format json` gives them
        {
            "run_id": "r3",
            "kind": "replay",
            "started": "2026-12-09T02:00:00.000000+00:00",
            "ended": "2026-12-09T02:00:04.000000+00:00",
            "exit_code": 0,
            "commit": None,
            "syncs": {"<m>": {"read": 1, "new": 1}},
        },
        {
            "run_id": "r2",
            "started": "2026-12-08T02:00:00.000000+00:00",
            "ended": None,
            "exit_code": None,
            "commit": "abc",
            "syncs": {"<m>": {"full": True}},
        },
        {
            "run_id": "r1",
            "started": "2026-12-07T02:00:00.000000+00:00",
            "ended": "2026-12-07T02:00:10.000000+00:00",
            "exit_code": 5,
            "commit": "0123456789abcdef",
            "syncs": {"<m>": {**counts, "delivered": 2}},
        },
    ]

    page = history_page("s.yaml", "sqlite .omnisync/state.db", runs, ["<m>"])

    for absent in ("<script", "src=", "href=", "@import", "url(", "<m>"):
        assert absent not in page
    assert "<title>omnisync history of s.yaml</title>" in page
    assert page.index("<title>new: 1</title>") < page.index("<title>changed: 1</title>")
    assert "<title>left the source: 2</title>" in page
    assert "class='run exit-5'" in page
    assert "class='run unfinished'" in page
    assert "2026-12-09 02:00:00 (replay)" in page
    assert page.count("class='duration'") == 3  # the line and two dots: r2 did not finish
    assert "<td>did not finish</td>" in page
    assert "<td>0123456789ab</td>" in page
