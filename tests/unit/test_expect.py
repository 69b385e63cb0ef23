"""`expect:` bounds: inherited key by key from `defaults:`, refused when out of range, and judged
against a finished sync's figures (the runs themselves: tests/integration/test_expect_and_change_plan.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.outcomes.report import SyncStats
from engine.run.expect import breaches, changed_share_breach, github_annotations
from engine.specfile import load_spec
from engine.specfile.expect import Expect

SPEC = """\
version: 1
omnisegment: {environment: sandbox}
defaults:
  expect: {max_429: 3, max_duration: 10m, min_rows: 5}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
    expect: {min_rows: 100, max_changed_share: 0.25}
  - name: plain
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping: {member_sn: id}
"""


def _load(tmp_path: Path, text: str = SPEC) -> tuple[Expect, ...]:
    (tmp_path / "members.csv").write_text("id\nM1\n", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    return tuple(sync.expect for sync in load_spec(spec).syncs)


def test_a_sync_inherits_each_bound_it_does_not_set(tmp_path: Path) -> None:
    members, plain = _load(tmp_path)

    assert members == Expect(min_rows=100, max_changed_share=0.25, max_429=3, max_duration=600.0)
    assert plain == Expect(min_rows=5, max_429=3, max_duration=600.0)


@pytest.mark.parametrize(
    "bad", ["{max_changed_share: 1.5}", "{max_429: -1}", "{max_duration: soon}", "{min_row: 3}"]
)
def test_a_bound_out_of_range_is_a_spec_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SpecError):
        _load(tmp_path, SPEC.replace("{min_rows: 100, max_changed_share: 0.25}", bad))


def test_each_bound_names_its_figure() -> None:
    stats = SyncStats("members", read=10, rejected=3)
    stats.requests.by_status["429"] = 4
    stats.finished = stats.started + 90.0
    expect = Expect(min_rows=11, max_reject_ratio=0.2, max_429=3, max_duration=60)

    assert breaches(expect, stats) == [
        "read 10 rows, expected at least 11",
        "rejected 3 of 10 rows (30.0%), expected at most 20.0%",
        "got 4 answers 429 (too many requests), expected at most 3",
        "took 90.0s, expected at most 60s",
    ]
    assert (
        breaches(Expect(min_rows=10, max_reject_ratio=0.3, max_429=4, max_duration=90), stats) == []
    )


def test_a_sync_that_did_not_run_is_not_degraded() -> None:
    assert breaches(Expect(min_rows=1), SyncStats("members", stopped="not run: stopped")) == []


def test_the_changed_share_counts_only_records_sent_before() -> None:
    bound = Expect(max_changed_share=0.5)
    assert changed_share_breach(bound, changed=0, unchanged=0) is None  # a first run
    assert changed_share_breach(bound, changed=5, unchanged=5) is None
    message = changed_share_breach(bound, changed=6, unchanged=4)
    assert message is not None
    assert message.startswith("6 of 10 records sent before changed (60.0%)")
    assert changed_share_breach(Expect(), changed=10, unchanged=0) is None


def test_annotations_only_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert github_annotations(["members: 100% changed"]) == []
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert github_annotations(["members: 100% changed\nagain"]) == [
        "::warning title=omnisync expect::members: 100%25 changed%0Aagain"
    ]
