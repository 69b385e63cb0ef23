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
