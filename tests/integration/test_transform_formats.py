"""Property: any value the date, datetime, number, phone and email transforms can output passes the
format of every endpoint field it can be mapped to, in the client's record check and in the
sandbox (whose checks are written from the reference pages, not from the client's schemas).

The default run tries 60 inputs per (transform, field); `pytest -m long` tries 1,500.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from connectors.omnisegment.destination import OmniSegmentDestination
from engine.transforms.base import Transform, TransformContext, TransformError
from engine.transforms.builtin import TRANSFORMS
from tests.conftest import TEST_API_KEY, TEST_TID
from tests.integration.endpoint_cases import GUARANTEE, MAPPING, PURCHASE_EVENT, REGISTRATION
from tests.integration.sandbox_check import sandbox_problem

TW = TransformContext(default_utc_offset="+08:00")
PURCHASE = {"member_sn": "1", "datetime": "2020-01-01T00:00:00+0800", "transaction_id": "T1",
            "transaction_revenue": 1.5}  # fmt: skip
VOUCHER = {"voucher_id": "V1", "member_sn": "A", "voucher_type": "gift", "amount": 1,
           "valid_from": "2024-03-03", "valid_util": "2025-03-03"}  # fmt: skip
ANSWERS = {"svid": "1", "title": "t", "status": "FINISH", "submitTime": "2022-02-16 08:30:20",
           "member_sn": "M1"}  # fmt: skip
AUDIENCE = {"member_sn": "M1"}


@dataclass(frozen=True)
class Target:
    """A field a transform's output can be mapped to: endpoint, destination block, base record."""

    endpoint: str
    field: str
    base: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.endpoint}.{self.field}"


DATETIME_FIELDS = [
    Target("audience", "register_date", AUDIENCE),
    Target("audience", "membership_expire_at", AUDIENCE),
    Target("purchase", "datetime", PURCHASE),
    Target("gift_voucher", "valid_from", VOUCHER),
    Target("gift_voucher", "valid_util", {**VOUCHER, "valid_from": "1900-01-01"}),
    Target("event_registration", "registration_datetime", REGISTRATION),
    Target("event_registration", "purchase_datetime", REGISTRATION),
    Target("product_guarantee", "registration_datetime", GUARANTEE),
    Target("product_guarantee", "purchase_datetime", GUARANTEE),
    Target("questionnaire_answers", "submitTime", ANSWERS),
]
DATE_FIELDS = [
    Target("audience", "birthday", AUDIENCE),
    Target("gift_voucher", "valid_from", {**VOUCHER, "valid_util": "9999-12-31"}),
]
FLOAT_FIELDS = [Target("purchase", "transaction_revenue", PURCHASE)]
INT_FIELDS = [
    Target("gift_voucher", "amount", VOUCHER),
    Target("purchase", "quantities", PURCHASE),
    Target("product_guarantee", "product_quantity", GUARANTEE),
    Target("event", "transaction_revenue", PURCHASE_EVENT),
    Target("event", "transaction_tax", PURCHASE_EVENT),
]
DECIMAL2_FIELDS = [
    Target("audience", name, AUDIENCE)
    for name in ("point_balance", "credit_balance", "membership_renewal_diff")
]
PHONE_FIELDS = [
    Target("audience", "phone", AUDIENCE),
    Target("purchase", "phone", PURCHASE, {"identifier_field": "phone"}),
    Target("gift_voucher", "phone", VOUCHER, {"identifier_field": "phone"}),
    Target("audience_mapping", "phone", MAPPING),
    Target("blacklist", "phone", {}, {"search_key": "phone", "to_be_blacklisted": True}),
]
EMAIL_FIELDS = [
    Target("audience", "email", AUDIENCE),
    Target("purchase", "email", PURCHASE, {"identifier_field": "email"}),
    Target("gift_voucher", "email", VOUCHER, {"identifier_field": "email"}),
    Target("audience_mapping", "email", {**MAPPING, "mapping_key": "email"}),
    Target("blacklist", "email", {}, {"search_key": "email", "to_be_blacklisted": False}),
]

_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_ZONES = st.sampled_from(["+08:00", "+09:00", "-03:30", "UTC", "Asia/Taipei", "Asia/Tokyo",
                          "Europe/Amsterdam", "America/New_York"])  # fmt: skip
MOMENTS = st.one_of(
    st.datetimes(),
    st.datetimes(timezones=_OFFSETS),
    st.dates(),
    st.datetimes().map(lambda moment: moment.isoformat(sep=" ")),
)
DIGITS = st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=4)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    DIGITS,
    DIGITS.map(str),
)
PHONES = st.one_of(
    st.from_regex(r"09[0-9]{8}", fullmatch=True),
    st.from_regex(r"\+8869[0-9]{8}", fullmatch=True),
    st.from_regex(r"\+81 ?90[- ]?[0-9]{4}[- ]?[0-9]{4}", fullmatch=True),
    st.text(alphabet="0123456789+-() ", max_size=20),
)
EMAILS = st.one_of(
    st.emails(),
    st.from_regex(r"[a-zA-Z0-9._%+-]{1,20}@[a-z0-9-]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    st.text(max_size=40),
)

CASES: list[tuple[str, Any, st.SearchStrategy[Any], list[Target]]] = [
    ("datetime", None, MOMENTS, DATETIME_FIELDS),
    ("datetime", {"timezone": "Asia/Tokyo"}, MOMENTS, DATETIME_FIELDS),
    ("datetime", {"input": ["iso", "epoch"]}, st.integers(-(2**31), 2**33), DATETIME_FIELDS),
    ("date", None, MOMENTS, DATE_FIELDS),
    ("number", None, NUMBERS, FLOAT_FIELDS),
    ("number", {"output": "int"}, NUMBERS, INT_FIELDS),
    ("number", {"output": "string", "decimals": 2}, NUMBERS, DECIMAL2_FIELDS),
    ("phone", {"region": "TW"}, PHONES, PHONE_FIELDS),
    ("phone", None, PHONES, PHONE_FIELDS),
    ("email", None, EMAILS, EMAIL_FIELDS),
    ("email", {"lowercase_local": True}, EMAILS, EMAIL_FIELDS),
]


def _zone_cases() -> list[tuple[str, Any, st.SearchStrategy[Any], list[Target]]]:
    return [
        ("datetime", {"timezone": zone}, MOMENTS, DATETIME_FIELDS)
        for zone in ("Europe/Amsterdam", "America/New_York", "-03:30")
    ]


ALL_CASES = CASES + _zone_cases()


def _endpoint(target: Target) -> Any:
    async def make() -> Any:
        connection = {"base_url": "http://127.0.0.1:9", "tid": TEST_TID, "api_key": TEST_API_KEY}
        async with OmniSegmentDestination(connection) as destination:
            return destination.endpoint({"endpoint": target.endpoint, "options": target.options})

    return asyncio.run(make())


def _output(transform: Transform, value: Any) -> Any:
    try:
        result = transform(value)
    except TransformError:
        return None
    return result


def _check(name: str, args: Any, values: st.SearchStrategy[Any], targets: list[Target],
           examples: int) -> None:  # fmt: skip
    transform = TRANSFORMS[name].build(args, TW)
    endpoints = [(target, _endpoint(target)) for target in targets]

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
    @given(value=values)
    def passes_every_field(value: Any) -> None:
        output = _output(transform, value)
        assume(output is not None)
        for target, endpoint in endpoints:
            record = {**target.base, target.field: output}
            assert endpoint.check(record) is None, (target.id, output)
            body = orjson.loads(endpoint.build_request([record]).body)
            assert sandbox_problem(endpoint, body) is None, (target.id, output)

    passes_every_field()


IDS = [f"{name}-{orjson.dumps(args).decode()}" for name, args, _v, _t in ALL_CASES]


@pytest.mark.parametrize(("name", "args", "values", "targets"), ALL_CASES, ids=IDS)
def test_transform_output_passes_every_field(
    name: str, args: Any, values: st.SearchStrategy[Any], targets: list[Target]
) -> None:
    _check(name, args, values, targets, examples=60)


@pytest.mark.long
@pytest.mark.parametrize(("name", "args", "values", "targets"), ALL_CASES, ids=IDS)
def test_transform_output_passes_every_field_long(
    name: str, args: Any, values: st.SearchStrategy[Any], targets: list[Target]
) -> None:
    _check(name, args, values, targets, examples=1500)
