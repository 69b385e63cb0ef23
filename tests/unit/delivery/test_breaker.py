"""The reject breaker: many rejections alike in a row stop the sync; anything else resets it."""

from __future__ import annotations

from engine.delivery.breaker import LIMIT, RejectBreaker, normalise


def test_indices_do_not_make_two_complaints_different() -> None:
    assert normalise("data[3].sex should be 1 or 2") == normalise("data[17].sex should be 1 or 2")
    assert normalise("record 3: sex should be 1 or 2") == normalise(
        "record 17: sex should be 1 or 2"
    )
    assert normalise("data[3].sex should be 1") != normalise("data[3].email is invalid")


def test_it_trips_on_the_limit_th_alike_rejection_with_the_latest_message() -> None:
    breaker = RejectBreaker(limit=3)
    assert breaker.rejected("data[0].sex bad") is None
    assert breaker.rejected("data[1].sex bad") is None
    assert breaker.rejected("data[2].sex bad") == "data[2].sex bad"


def test_an_accepted_request_resets_the_streak() -> None:
    breaker = RejectBreaker(limit=3)
    breaker.rejected("bad")
    breaker.rejected("bad")
    breaker.accepted()
    assert breaker.rejected("bad") is None
    assert breaker.rejected("bad") is None
    assert breaker.rejected("bad") == "bad"


def test_a_different_complaint_starts_a_new_streak() -> None:
    breaker = RejectBreaker(limit=2)
    assert breaker.rejected("sex bad") is None
    assert breaker.rejected("email bad") is None
    assert breaker.rejected("email bad") == "email bad"


def test_the_default_limit_is_thirty() -> None:
    breaker = RejectBreaker()
    assert breaker.limit == LIMIT == 30
    assert [breaker.rejected("bad") for _ in range(30)].count(None) == 29
