"""The retry policy: which answers are retried, and how long to wait before each retry."""

from __future__ import annotations

import random

import pytest

from engine.contracts import Verdict
from engine.delivery.retry import Backoff, RetryPolicy


@pytest.mark.parametrize(
    ("verdict", "kind"),
    [
        (Verdict.THROTTLED, "throttled"),
        (Verdict.UNAVAILABLE, "unavailable"),
        (Verdict.FAILED, "transient"),
        (None, "transient"),  # no answer at all: timeout, reset
    ],
)
def test_each_retried_answer_has_its_backoff(verdict: Verdict | None, kind: str) -> None:
    policy = RetryPolicy()
    assert policy.backoff_for(verdict) is getattr(policy, kind)


@pytest.mark.parametrize("verdict", [Verdict.ACCEPTED, Verdict.REJECTED, Verdict.AUTH])
def test_final_answers_are_not_retried(verdict: Verdict) -> None:
    assert RetryPolicy().backoff_for(verdict) is None


def test_without_jitter_the_wait_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=30.0, attempts=7, jitter=False)
    rng = random.Random(0)
    assert [backoff.delay(n, rng) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_full_jitter_spreads_the_wait_between_zero_and_the_ceiling() -> None:
    backoff = Backoff(base=1.0, cap=30.0, attempts=6)
    rng = random.Random(7)
    waits = [backoff.delay(3, rng) for _ in range(500)]
    assert all(0.0 <= wait <= 4.0 for wait in waits)
    assert min(waits) < 0.5
    assert max(waits) > 3.5


def test_retry_after_is_a_lower_bound() -> None:
    backoff = Backoff(base=0.5, cap=30.0, attempts=12)
    rng = random.Random(0)
    assert backoff.delay(1, rng, retry_after=7.0) == 7.0
    assert backoff.delay(1, rng, retry_after=None) <= 0.5


def test_the_vendor_policy_for_unavailable_is_five_tries_five_minutes_apart() -> None:
    unavailable = RetryPolicy().unavailable
    rng = random.Random(0)
    assert unavailable.attempts == 5
    assert [unavailable.delay(n, rng) for n in range(1, 6)] == [300.0] * 5


def test_no_retry_block_gives_the_defaults() -> None:
    assert RetryPolicy.from_spec(None) == RetryPolicy()
    assert RetryPolicy.from_spec({}) == RetryPolicy()


def test_a_retry_block_overrides_only_what_it_names() -> None:
    policy = RetryPolicy.from_spec(
        {"unavailable": {"interval": 5, "attempts": 2}, "transient": {"interval": 60}}
    )
    assert policy.unavailable == Backoff(base=5.0, cap=300.0, attempts=2, factor=1.0, jitter=False)
    # an interval above the default cap raises the cap, so the interval is really waited
    assert policy.transient == Backoff(base=60.0, cap=60.0, attempts=6)
    assert policy.throttled == RetryPolicy().throttled


def test_a_retry_block_may_set_every_knob() -> None:
    block = {"interval": 2, "max_interval": 9, "attempts": 3, "backoff": 3, "jitter": False}
    policy = RetryPolicy.from_spec({"throttled": block})
    assert policy.throttled == Backoff(base=2.0, cap=9.0, attempts=3, factor=3.0, jitter=False)
    assert [policy.throttled.delay(n, random.Random(0)) for n in (1, 2, 3)] == [2.0, 6.0, 9.0]
