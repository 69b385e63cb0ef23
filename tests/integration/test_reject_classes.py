"""400 answers that differ only by values, indexes or field lists are the same complaint: the
"rejected alike" breaker trips on them, and bisection has a bounded budget of requests per run."""

from __future__ import annotations

import asyncio
import itertools
import string
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.omnisegment.destination import OmniSegmentDestination
from engine.contracts import Verdict
from engine.errors import DeliveryError
from tests.conftest import TEST_API_KEY, TEST_TID, RunningSandbox
from tests.integration.delivery import deliver


def _judge(message: str) -> Any:
    async def make() -> Any:
        connection = {"base_url": "http://127.0.0.1:9", "tid": TEST_TID, "api_key": TEST_API_KEY}
        async with OmniSegmentDestination(connection) as destination:
            return destination.endpoint({"endpoint": "audience"})

    endpoint = asyncio.run(make())
    body = orjson.dumps({"SUCCESS": False, "ERR_MSG": message})
    return endpoint.judge(400, body, {})


ALIKE = [
    (
        "Input Error: data[3].nickname: custom text fields hold at most 1025 characters",
        "Input Error: data[17].motto: custom text fields hold at most 1025 characters",
    ),
    (
        "Missing Input Error: data[0] requires voucher_id, amount",
        "Missing Input Error: data[12] requires valid_util",
    ),
    (
        "Input Error: data[2].sex should be one of ['male', 'female']",
        "Input Error: data[40].sex should be one of ['male', 'female', 'other']",
    ),
    (
        "Input Error: 'bob@' is not a valid email",
        'Input Error: "alice@@example.com" is not a valid email',
    ),
    (
        "Input Error: data[0].member_sn 'Kq' was refused by the server",
        "Input Error: data[9].email 'zed@example.com' was refused by the server",
    ),
    # one field in some answers, a list in others
    (
        "Input Error: data[3].nickname: custom text fields hold at most 1025 characters",
        "Input Error: data[4].motto, data[4].bio: custom text fields hold at most 1025 characters",
    ),
    (
        "Missing Input Error: Missing required fields: hit_type",
        "Missing Input Error: Missing required fields: client_id, tid",
    ),
    ("Missing Input Error: title required", "Missing Input Error: svid, title required"),
    ("Missing Input Error: title is required", "Missing Input Error: svid and title are required"),
    ("Missing Input Error: data requires amount", "Missing Input Error: data requires id and name"),
]
DIFFERENT = [
    (
        "Input Error: data[2].sex should be one of ['male', 'female']",
        "Input Error: data[2].birthday should be in YYYY-MM-DD format",
    ),
    (
        "Missing Input Error: data[0] requires member_sn",
        "Input Error: data[0] requires member_sn",
    ),
]


@pytest.mark.parametrize(("first", "second"), ALIKE)
def test_answers_alike_but_for_values_share_a_reason_class(first: str, second: str) -> None:
    one, two = _judge(first), _judge(second)

    assert one.verdict is two.verdict is Verdict.REJECTED
    assert one.message == first  # the reject file keeps the server's words
    assert one.reason_class == two.reason_class


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_complaints_keep_different_classes(first: str, second: str) -> None:
    assert _judge(first).reason_class != _judge(second).reason_class


def _names(count: int) -> list[str]:
    """Field names made of letters only: no digit to strip, every one different."""
    letters = string.ascii_lowercase
    combos = itertools.product(letters, repeat=3)
    return ["custom_" + "".join(combo) for combo in itertools.islice(combos, count)]


def test_refusals_naming_different_fields_trip_the_breaker(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API refuses every record, each for an over-long custom field of a different name (what
    no local check can know: custom fields are per organisation). The run stops after 30 alike
    answers instead of bisecting every batch (~99 requests per 50 records)."""
    records = [{"member_sn": f"M{i}", name: "x" * 2000} for i, name in enumerate(_names(2000))]
    monkeypatch.setattr(
        "connectors.omnisegment.endpoint.OmniSegmentEndpoint.check", lambda self, payload: None
    )
    destination = {"endpoint": "audience", "options": {}}

    with pytest.raises(DeliveryError, match="with the same error") as stopped:
        asyncio.run(deliver(sandbox.url, destination, records, tmp_path / "r.jsonl"))

    assert "custom text fields hold at most" in str(stopped.value)
    requests = sum(sandbox.stats()["requests"].values())
    assert requests <= 60, requests


def test_refusals_naming_one_field_or_a_list_trip_the_breaker(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 records each with over-long custom fields, one in some records and two in others:
    the answers name one field or a list. They are one complaint: the run stops after 30 of them
    (it took 399 requests and ended at the bisection budget when a list counted apart)."""
    names = _names(6000)
    records = [
        {"member_sn": f"M{i}", **dict.fromkeys(names[2 * i : 2 * i + 1 + i % 2], "x" * 2000)}
        for i in range(3000)
    ]
    monkeypatch.setattr(
        "connectors.omnisegment.endpoint.OmniSegmentEndpoint.check", lambda self, payload: None
    )

    with pytest.raises(DeliveryError, match="with the same error") as stopped:
        asyncio.run(deliver(sandbox.url, {"endpoint": "audience"}, records, tmp_path / "r.jsonl"))

    assert "custom text fields hold at most" in str(stopped.value)
    requests = sum(sandbox.stats()["requests"].values())
    print(f"3,000 records refused alike: stopped after {requests} requests")
    assert requests <= 60, requests


BAD_VALUES = [
    {"sex": "unknown"},
    {"birthday": "1990/01/02"},
    {"register_date": "yesterday"},
    {"point_balance": "12.345"},
    {"is_active": "yes"},
    {"fcm_tokens": "token"},
]


def test_bisection_spends_a_bounded_number_of_requests(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every record refused, for reasons that differ from one answer to the next (so the breaker
    never sees 30 alike): bisection stops at its budget instead of ~2 requests per record."""
    records = [{"member_sn": f"M{i}", **BAD_VALUES[i % len(BAD_VALUES)]} for i in range(2000)]
    monkeypatch.setattr(
        "connectors.omnisegment.endpoint.OmniSegmentEndpoint.check", lambda self, payload: None
    )

    with pytest.raises(DeliveryError, match="most records are refused") as stopped:
        asyncio.run(deliver(sandbox.url, {"endpoint": "audience"}, records, tmp_path / "r.jsonl"))

    assert "extra requests" in str(stopped.value)
    requests = sum(sandbox.stats()["requests"].values())
    assert requests <= 400, requests
