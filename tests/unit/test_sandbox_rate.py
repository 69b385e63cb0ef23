"""The sandbox's limit: at most N requests in any sliding second per route and tid, at arrival."""

from __future__ import annotations

from connectors.omnisegment.sandbox.rate import ArrivalWindows


def test_ten_in_a_second_then_the_eleventh_is_refused_until_the_first_leaves() -> None:
    windows = ArrivalWindows()
    assert all(windows.admit("a#t", 0.05 * i, 10) for i in range(10))  # 0.00 .. 0.45
    assert not windows.admit("a#t", 0.99, 10)
    assert windows.retry_after("a#t", 0.99, 10) == 1
    assert windows.admit("a#t", 1.0, 10)  # the one of 0.00 has left the window [0.0, 1.0)
    assert not windows.admit("a#t", 1.01, 10)


def test_evenly_spaced_requests_a_hair_closer_than_the_rate_are_refused() -> None:
    """A period-based client (slots exactly 100 ms apart, one late) puts 11 in one second."""
    windows = ArrivalWindows()
    arrivals = [0.1 * i for i in range(10)] + [0.1 * 10 - 0.002]  # the 11th a little early
    answers = [windows.admit("a#t", t, 10) for t in arrivals]
    assert answers == [True] * 10 + [False]


def test_a_refusal_does_not_use_up_the_window_and_buckets_are_separate() -> None:
    windows = ArrivalWindows()
    assert windows.admit("a#t", 0.0, 1)
    assert not windows.admit("a#t", 0.5, 1)
    assert windows.admit("a#t", 1.0, 1)  # the refused one at 0.5 does not count
    assert windows.admit("b#t", 0.5, 1)  # another route, its own window
    assert windows.admit("a#u", 0.5, 1)  # another account, its own window


def test_fractional_and_slow_rates() -> None:
    """The sandbox admits two requests a second at 2.5/s, and one every two seconds at 0.5/s."""
    windows = ArrivalWindows()
    assert [windows.admit("a", t, 2.5) for t in (0.0, 0.1, 0.2)] == [True, True, False]
    slow = ArrivalWindows()
    assert [slow.admit("a", t, 0.5) for t in (0.0, 1.5, 2.0)] == [True, False, True]


def test_the_busiest_second_counts_every_arrival_refused_or_not() -> None:
    windows = ArrivalWindows()
    for t in (0.0, 0.2, 0.4, 0.6):
        windows.admit("a#t", t, 2)
    windows.admit("a#t", 5.0, 2)
    windows.admit("b#t", 5.0, None)
    assert windows.busiest == {"a#t": 4, "b#t": 1}
