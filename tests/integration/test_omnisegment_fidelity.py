"""What the reference allows is sent, what it refuses is caught (issue: OmniSegment fidelity).

Each test delivers through the real pipeline (mapping, record check, batching, HTTP) to the sandbox
and reads back what it stored, or reads the reject file when the record must not be sent.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.omnisegment.destination import OmniSegmentDestination
from tests.conftest import TEST_API_KEY, TEST_TID, RunningSandbox
from tests.integration.delivery import block, deliver
from tests.integration.endpoint_cases import GUARANTEE, PRODUCT, REGISTRATION
from tests.integration.sandbox_check import sandbox_problem

TAIPEI = timezone(timedelta(hours=8))


def run(
    sandbox: RunningSandbox,
    tmp_path: Path,
    endpoint: str,
    records: list[dict[str, Any]],
    options: dict[str, Any] | None = None,
    mode: str | None = None,
    mapping: dict[str, Any] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    destination = block(endpoint, options or {}, mode)
    stats, rejects = asyncio.run(
        deliver(sandbox.url, destination, records, tmp_path / "rejects.jsonl", mapping_spec=mapping)
    )
    return stats.delivered, rejects


def _endpoint(destination: dict[str, Any]) -> Any:
    async def make() -> Any:
        connection = {"base_url": "http://127.0.0.1:9", "tid": TEST_TID, "api_key": TEST_API_KEY}
        async with OmniSegmentDestination(connection) as opened:
            return opened.endpoint(destination)

    return asyncio.run(make())


# -- 1. fractional seconds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "record", "field"),
    [
        ("event_registration", REGISTRATION, "registration_datetime"),
        ("product_guarantee", GUARANTEE, "purchase_datetime"),
    ],
)
def test_datetimes_with_fractional_seconds_are_sent(
    endpoint: str, record: dict[str, Any], field: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A PostgreSQL now() (microseconds) through the `datetime` transform is delivered as is."""
    moment = datetime(2022, 8, 17, 12, 0, 0, 123456, tzinfo=TAIPEI)
    mapping: dict[str, Any] = {name: {"from": name} for name in record}
    mapping[field] = {"from": field, "transforms": ["datetime"]}
    delivered, rejects = run(
        sandbox, tmp_path, endpoint, [{**record, field: moment}], None, None, mapping
    )

    assert rejects == []
    assert delivered == 1
    (stored,) = sandbox.records(endpoint).values()
    assert stored[field] == "2022-08-17T12:00:00.123456+08:00"  # type: ignore[index]


# -- 2. clearing audience values -----------------------------------------------------------------

CLEARABLE = (
    "sex",
    "birthday",
    "register_date",
    "membership_expire_at",
    "membership_renewal_diff",
    "membership_upgrade_diff",
    "membership_upgrade_oneday_diff",
    "point_balance",
    "credit_balance",
    "is_subscriber",
    "is_subscriber_sms",
    "is_subscriber_line",
    "is_subscriber_pn",
    "is_active",
    "is_headless_account",
    "email_channels",
    "line_channels",
    "email",
)


@pytest.mark.parametrize("ignore_empty_value", [True, False])
@pytest.mark.parametrize("value", [None, "none"], ids=["null", "none"])
def test_audience_values_can_be_cleared(
    ignore_empty_value: bool, value: Any, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """null keeps (ignore_empty_value: true) or clears (false), 'none' clears: both are sent.
    A mapping sends null only when asked (`empty: null`): a blank cell never clears by accident."""
    rows = [{"id": "M1", **dict.fromkeys(CLEARABLE, "")}]
    clear = "null" if value is None else "none"
    mapping: dict[str, Any] = {"member_sn": "id"}
    mapping |= {name: {"from": name, "transforms": [{"empty": clear}]} for name in CLEARABLE}
    options = {"ignore_empty_value": ignore_empty_value}
    delivered, rejects = run(sandbox, tmp_path, "audience", rows, options, None, mapping)

    assert rejects == []
    assert delivered == 1
    assert sandbox.records("audience") == {
        "M1": {"member_sn": "M1", **dict.fromkeys(CLEARABLE, value)}
    }


@pytest.mark.parametrize("mode", ["batch", "single"])
def test_blank_text_clears_too(mode: str, sandbox: RunningSandbox) -> None:
    """'' (which only a record built outside a mapping carries) passes the check and the API."""
    record = {"member_sn": "M1", **dict.fromkeys(CLEARABLE, "")}
    endpoint = _endpoint(block("audience", {"ignore_empty_value": False}, mode))

    assert endpoint.check(record) is None
    request = endpoint.build_request([record])
    assert sandbox_problem(endpoint, orjson.loads(request.body)) is None


def test_the_empty_transform_output_is_sent(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`empty: none` and `empty: null` turn blank cells into the values that clear a field."""
    rows = [{"id": "M1", "gender": "", "dob": " ", "points": ""}]
    mapping = {
        "member_sn": "id",
        "sex": {"from": "gender", "transforms": [{"empty": "none"}]},
        "birthday": {"from": "dob", "transforms": [{"empty": "null"}]},
        "point_balance": {"from": "points", "transforms": [{"empty": "none"}]},
    }
    delivered, rejects = run(sandbox, tmp_path, "audience", rows, None, None, mapping)

    assert rejects == []
    assert delivered == 1
    assert sandbox.records("audience") == {
        "M1": {"member_sn": "M1", "sex": "none", "birthday": None, "point_balance": "none"}
    }


def test_a_clear_value_is_not_a_free_pass(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Other values of a clearable field are still checked: 'unknown' is not a sex."""
    delivered, rejects = run(sandbox, tmp_path, "audience", [{"member_sn": "M1", "sex": "unknown"}])

    assert delivered == 0
    assert rejects[0]["field"] == "sex"
    assert "'male'" in rejects[0]["reason"]


# -- 3. product availability ---------------------------------------------------------------------


@pytest.mark.parametrize("availability", ["in stock", "out of stock", "discontinued", "售完"])
def test_any_availability_text_is_sent(
    availability: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """in stock / available for order / preorder mean available; any other value means not."""
    delivered, rejects = run(
        sandbox, tmp_path, "product", [{**PRODUCT, "availability": availability}]
    )

    assert rejects == []
    assert delivered == 1


# -- 4. event tracking ---------------------------------------------------------------------------

EVENT = {"client_id": "C1", "data_source": "web", "hit_type": "event"}


@pytest.mark.parametrize("action", ["ViewContent", "AddToWishlist", "FormFillOut"])
def test_listed_event_actions_need_no_event_value(
    action: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The actions the page lists are not custom events: no event_value needed."""
    delivered, rejects = run(sandbox, tmp_path, "event", [{**EVENT, "event_action": action}])

    assert rejects == []
    assert delivered == 1


def test_a_custom_event_still_needs_its_value(sandbox: RunningSandbox, tmp_path: Path) -> None:
    delivered, rejects = run(sandbox, tmp_path, "event", [{**EVENT, "event_action": "Subscribe"}])

    assert delivered == 0
    assert "event_value" in (rejects[0]["field"] or "") + rejects[0]["reason"]


def test_a_view_content_pageview_needs_no_products(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The page's app example: a pageview with event_action ViewContent and no products."""
    record = {**EVENT, "hit_type": "pageview", "event_action": "ViewContent"}
    record["event_category"] = "Ecommerce"
    delivered, rejects = run(sandbox, tmp_path, "event", [record])

    assert rejects == []
    assert delivered == 1


def test_product_quantity_may_be_a_number(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The page's purchase example sends "quantity": 2; the tables say "2". Both are sent."""
    record = {
        **EVENT,
        "event_action": "Purchase",
        "event_category": "Ecommerce",
        "transaction_id": "T1",
        "transaction_revenue": 3400,
        "products": [
            {"id": "P1", "name": "A", "quantity": 2},
            {"id": "P2", "name": "B", "quantity": "1"},
        ],
    }
    delivered, rejects = run(sandbox, tmp_path, "event", [record])

    assert rejects == []
    assert delivered == 1


def test_a_fractional_quantity_says_what_is_expected(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    record = {**EVENT, "event_action": "AddToCart", "event_category": "Ecommerce"}
    record["products"] = [{"id": "P1", "name": "A", "quantity": 2.5}]
    delivered, rejects = run(sandbox, tmp_path, "event", [record])

    assert delivered == 0
    assert rejects[0]["field"] == "products.0.quantity"
    assert "whole number" in rejects[0]["reason"]


# -- 5. voucher site per data object -------------------------------------------------------------

VOUCHER = {
    "voucher_id": "V1",
    "member_sn": "AAAAAA",
    "voucher_type": "birthday_gift",
    "amount": 999,
    "valid_from": "2024-03-03",
    "valid_util": "2025-03-03",
}


@pytest.mark.parametrize("mode", ["batch", "list", "single"])
def test_voucher_site_inside_the_data_object_is_sent(
    mode: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """openapi.yaml puts `site` in each voucher; the pages put it in the envelope. Both work."""
    records = [{**VOUCHER, "site": "MAIN"}, {**VOUCHER, "voucher_id": "V2", "site": None}]
    if mode == "single":
        records = records[:1]
    delivered, rejects = run(sandbox, tmp_path, "gift_voucher", records, None, mode)

    assert rejects == []
    assert delivered == len(records)
    assert sandbox.records("gift_voucher")["V1"]["site"] == "MAIN"  # type: ignore[index]


# -- 10. formats the reference states ------------------------------------------------------------


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com"])
def test_a_malformed_audience_email_is_caught(
    email: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    delivered, rejects = run(sandbox, tmp_path, "audience", [{"member_sn": "M1", "email": email}])

    assert delivered == 0
    assert rejects[0]["field"] == "email"
    assert "email address" in rejects[0]["reason"]


def test_a_mapping_keyed_by_a_malformed_email_is_caught(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A malformed email would create a headless audience under that value."""
    record = {"source_id": "S1", "source_system": "CRM", "mapping_key": "email", "email": "bob@"}
    delivered, rejects = run(sandbox, tmp_path, "audience_mapping", [record])

    assert delivered == 0
    assert rejects[0]["field"] == "email"
    assert sandbox.stats()["requests"] == {}


def test_well_formed_emails_are_sent(sandbox: RunningSandbox, tmp_path: Path) -> None:
    records = [
        {"member_sn": "M1", "email": "eason@example.com"},
        {"member_sn": "M2", "email": "王小明@例子.台灣"},
        {"member_sn": "M3", "email": "a.b+tag@sub.example.co.jp"},
        {"member_sn": "M4", "email": "0@a.xn--3e0b707e"},  # an IDN top-level domain (A-label)
    ]
    delivered, rejects = run(sandbox, tmp_path, "audience", records)

    assert rejects == []
    assert delivered == 4


# -- 8. reasons that say how to fix --------------------------------------------------------------

PURCHASE = {
    "member_sn": "1",
    "datetime": "2020-01-01T00:00:00+0800",
    "transaction_id": "T1",
    "transaction_revenue": 5000.5,
}


@pytest.mark.parametrize(
    ("endpoint", "record", "field", "hint"),
    [
        (
            "purchase",
            {**PURCHASE, "transaction_revenue": "1355.50"},
            "transaction_revenue",
            "number",
        ),
        ("gift_voucher", {**VOUCHER, "amount": "999"}, "amount", "number: {output: int}"),
        ("gift_voucher", {**VOUCHER, "is_redeemed": "yes"}, "is_redeemed", "cast: bool"),
        ("purchase", {**PURCHASE, "quantities": 2.5}, "quantities", "number: {output: int}"),
    ],
)
def test_a_type_error_names_the_transform_that_fixes_it(
    endpoint: str,
    record: dict[str, Any],
    field: str,
    hint: str,
    sandbox: RunningSandbox,
    tmp_path: Path,
) -> None:
    """'1355.50' in a money field: the reason says to map it with `number`, and names the field
    once (the reject's `field` holds it; the reason does not repeat it)."""
    delivered, rejects = run(sandbox, tmp_path, endpoint, [record])

    assert delivered == 0
    assert rejects[0]["field"] == field
    assert hint in rejects[0]["reason"]
    assert field not in rejects[0]["reason"]


def test_a_misspelt_required_field_gets_a_did_you_mean(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """`valid_until` for `valid_util` at record level: the reason names both."""
    record = {k: v for k, v in VOUCHER.items() if k != "valid_util"} | {"valid_until": "2025-03-03"}
    delivered, rejects = run(sandbox, tmp_path, "gift_voucher", [record])

    assert delivered == 0
    assert "valid_util" in rejects[0]["reason"]
    assert "valid_until" in rejects[0]["reason"]


# -- issue 21: identifying fields, fcm_tokens, JSON-object strings, near misses -----------------


@pytest.mark.parametrize(
    ("options", "record", "field"),
    [
        ({}, {"member_sn": "none"}, "member_sn"),
        ({}, {"source_id": "none", "source_system": "CRM"}, "source_id"),
        ({"merge_key": "email"}, {"email": "none"}, "email"),
        ({"merge_key": "phone", "ignore_empty_value": True}, {"phone": "none"}, "phone"),
        ({"merge_key": "email"}, {"email": "a@example.com", "member_sn": "none"}, "member_sn"),
    ],
)
def test_the_field_that_identifies_the_member_cannot_be_cleared(
    options: dict[str, Any],
    record: dict[str, Any],
    field: str,
    sandbox: RunningSandbox,
    tmp_path: Path,
) -> None:
    """Import-Audience-API: "none" clears a field, and a field that cannot be cleared is an error.
    The member's keys and the merge key's field cannot: "none" there is refused, not sent."""
    delivered, rejects = run(sandbox, tmp_path, "audience", [record], options)

    assert delivered == 0
    assert rejects[0]["field"] == field
    assert "cannot be cleared" in rejects[0]["reason"]
    assert sandbox.stats()["requests"] == {}
    body = {"tid": TEST_TID, "api_key": TEST_API_KEY, **options, "data": [record]}
    problem = sandbox_problem(_endpoint(block("audience", options, "batch")), body)
    assert problem is not None
    assert field in problem[1]


@pytest.mark.parametrize(("clear", "value"), [("null", None), ("none", "none")])
def test_fcm_tokens_can_be_cleared_as_the_page_writes_it(
    clear: str, value: Any, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """ignore_empty_value's clearing values ("", null, "none") hold for fcm_tokens as for any
    field: they were refused locally for not being a list."""
    mapping = {
        "member_sn": "id",
        "fcm_tokens": {"from": "tokens", "transforms": [{"empty": clear}]},
    }
    delivered, rejects = run(
        sandbox, tmp_path, "audience", [{"id": "M1", "tokens": ""}], {}, None, mapping
    )

    assert rejects == []
    assert delivered == 1
    assert sandbox.records("audience") == {"M1": {"member_sn": "M1", "fcm_tokens": value}}


@pytest.mark.parametrize("value", [None, "", "none"], ids=["null", "blank", "none"])
def test_the_sandbox_takes_a_cleared_fcm_tokens(value: Any, sandbox: RunningSandbox) -> None:
    record = {"member_sn": "M1", "fcm_tokens": value}
    endpoint = _endpoint(block("audience", {}, "batch"))

    assert endpoint.check(record) is None
    assert sandbox_problem(endpoint, orjson.loads(endpoint.build_request([record]).body)) is None


SEARCH = {**EVENT, "event_action": "Search", "event_category": "Search"}
CART = {**EVENT, "event_action": "AddToCart", "event_category": "Ecommerce"}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**SEARCH, "event_label": "滑鼠"}, "event_label"),
        ({**SEARCH, "event_label": '["滑鼠"]'}, "event_label"),
        (
            {**CART, "products": [{"id": "P1", "name": "A", "variant": "藍色"}]},
            "products.0.variant",
        ),
        (
            {**CART, "products": [{"id": "P1", "name": "A", "variant": "{color}"}]},
            "products.0.variant",
        ),
    ],
)
def test_event_label_and_variant_are_json_objects_as_text(
    record: dict[str, Any], field: str, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Event-Tracking-API: event_label is a "json format string", variant a "json formatted
    string"; every example is an object written as text."""
    delivered, rejects = run(sandbox, tmp_path, "event", [record])

    assert delivered == 0
    assert rejects[0]["field"] == field
    assert "JSON object" in rejects[0]["reason"]
    body = {"tid": TEST_TID, "version": "2.0.4", **record}
    problem = sandbox_problem(_endpoint(block("event", {}, None)), body)
    assert problem is not None
    assert "JSON object" in problem[1]


def test_the_pages_json_labels_and_variants_are_sent(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    records = [
        {**SEARCH, "client_id": "C1", "event_label": '{"search_string": "滑鼠"}'},
        {
            **CART,
            "client_id": "C2",
            "products": [{"id": "P1", "name": "A", "variant": '{"color": "藍色"}'}],
        },
    ]
    delivered, rejects = run(sandbox, tmp_path, "event", records)

    assert rejects == []
    assert delivered == 2


def test_a_missing_field_is_not_offered_another_field_as_a_misspelling(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A custom event without event_value got "(the record has 'event_action': a misspelling?)":
    event_action is a field of its own, present for its own reason."""
    delivered, rejects = run(sandbox, tmp_path, "event", [{**EVENT, "event_action": "Subscribe"}])

    assert delivered == 0
    assert rejects[0]["field"] == "event_value"
    assert rejects[0]["reason"] == "missing required field 'event_value'"
