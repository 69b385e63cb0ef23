"""The sandbox's route table: per URL, its auth, body shape, cap, checks and how records are kept.

Written from the reference pages (not from schemas/). A route's `validate` returns (ERR_TYPE_KEY,
message) for a 400, or None when the request is acceptable. Envelope checks live in envelopes.py,
record checks in records/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.omnisegment.sandbox import envelopes
from connectors.omnisegment.sandbox.envelopes import EnvelopeCheck
from connectors.omnisegment.sandbox.record_checks import (
    audiences,
    events,
    products,
    purchases,
    questionnaires,
    workflows,
)
from connectors.omnisegment.sandbox.values import INPUT, MISSING, Envelope, Problem

ItemCheck = Callable[[Any, str, Envelope], Problem]
Shape = Literal["object", "list", "object_or_list", "body"]

_OK = {"SUCCESS": True, "PAYLOAD": None}
_POST_DATA = "These values are required in post data : api_key, tid, data"


@dataclass(frozen=True)
class RouteCheck:
    """One import URL as the sandbox serves it: what it requires, checks and keeps."""

    path: str
    endpoint: str  # name under which accepted records are kept
    auth: str  # "body", "header" (tid in the query) or "beacon" (tid in the body)
    shape: Shape
    item_check: ItemCheck
    item_key: Callable[[Any, dict[str, Any]], str]
    cap: int = 1
    data_key: str = "data"
    required: tuple[str, ...] = ("api_key", "tid", "data")
    missing_text: str = _POST_DATA
    envelope_checks: tuple[EnvelopeCheck, ...] = ()
    success: Any = field(default_factory=lambda: _OK)
    size_text: str = "data should not contain more than {cap} items"
    stored: Callable[[Any, dict[str, Any]], Any] = lambda item, _body: item
    empty_text: str | None = None  # an empty list gets this Input Error instead of "missing"
    counts: bool = False  # events: each arrival of a key is counted (GET /_sandbox/counts/...)

    @property
    def missing_message(self) -> str:
        """The 400 text when tid or api_key is missing from the body."""
        return self.missing_text

    def validate(self, body: dict[str, Any]) -> Problem:
        """The first problem of the request body, envelope before records, or None."""
        if self.shape == "body":
            return self.item_check(body, "data", body)
        empty: tuple[Any, ...] = (None, "") if self.empty_text else (None, "", [])
        if any(body.get(name) in empty for name in self.required):
            return MISSING, self.missing_text
        for check in self.envelope_checks:
            if (problem := check(body)) is not None:
                return problem
        data = body[self.data_key]
        if isinstance(data, dict) and self.shape in ("object", "object_or_list"):
            return self.item_check(data, self.data_key, body)
        if not isinstance(data, list) or self.shape == "object":
            wanted = "an object" if self.shape == "object" else "a list"
            return INPUT, f"type of {self.data_key} should be {wanted} instead of {type(data)}"
        if not data and self.empty_text:
            return INPUT, self.empty_text
        if len(data) > self.cap:
            return INPUT, self.size_text.format(cap=self.cap)
        for i, item in enumerate(data):
            if (problem := self.item_check(item, f"{self.data_key}[{i}]", body)) is not None:
                return problem
        return None

    def records(self, body: dict[str, Any]) -> Iterable[tuple[str, Any]]:
        """(key, record to keep) for each record of an accepted body; upserted by key."""
        if self.shape == "body":
            kept = {k: v for k, v in body.items() if k not in ("tid", "api_key")}
            return [(self.item_key(kept, body), kept)]
        data = body[self.data_key]
        rows = [data] if isinstance(data, dict) else data
        return ((self.item_key(item, body), self.stored(item, body)) for item in rows)


def _audience_key(item: dict[str, Any], body: dict[str, Any]) -> str:
    merge_key = body.get("merge_key") or "member_sn"
    pair = f"{item.get('source_system')}:{item.get('source_id')}"
    return (
        pair
        if merge_key == "source_id"
        else str(item.get(merge_key) or item.get("member_sn") or pair)
    )


def _answers_key(body: dict[str, Any], _full: dict[str, Any]) -> str:
    return f"{body['svid']}:{body['member_sn']}"


def _questionnaire_answers(path: str) -> RouteCheck:
    """Import-Audience-Questionnaire-Data names two paths (URL line, example): both are served."""
    return RouteCheck(
        path, "questionnaire_answers", "header", "body", questionnaires.answers, _answers_key,
        missing_text="svid, title, status, submitTime and member_sn are required",
    )  # fmt: skip


def _member_key(item: dict[str, Any], body: dict[str, Any]) -> str:
    lookup = body.get("identifier_field") or "member_sn"
    return str(item.get(lookup) or f"{item.get('source_system')}:{item.get('source_id')}")


def _field_key(name: str) -> Callable[[Any, dict[str, Any]], str]:
    def key(item: Any, _body: dict[str, Any]) -> str:
        value = item[name]
        return value if isinstance(value, str) else str(sorted(value.items()))

    return key


def _event_key(body: dict[str, Any], _full: dict[str, Any]) -> str:
    kind = body.get("event_action") or body.get("hit_type")
    return f"{kind}:{body.get('transaction_id') or body.get('client_id')}"


ROUTES: tuple[RouteCheck, ...] = (
    RouteCheck(
        "/ma_audience/import-audience/", "audience", "body", "object", audiences.audience,
        _audience_key,
        envelope_checks=envelopes.AUDIENCE_SINGLE,
        success={"SUCCESS": True, "PAYLOAD": {"status": "OK", "error_msg": ""}},
    ),
    RouteCheck(
        "/api/v2/audiences/batch-import/", "audience", "body", "list", audiences.audience,
        _audience_key, cap=50,
        envelope_checks=envelopes.AUDIENCE_BATCH,
    ),
    RouteCheck(
        "/api/import-purchase-data/", "purchase", "body", "object", purchases.purchase,
        _field_key("transaction_id"),
        missing_text="Request must include api_key, tid and data_content.",
        envelope_checks=envelopes.PURCHASE_SINGLE,
    ),
    RouteCheck(
        "/api/v2/purchase/batch-import/", "purchase", "body", "list", purchases.purchase,
        _field_key("transaction_id"), cap=50,
        missing_text="Request should includes tid, api_key and data",
        envelope_checks=envelopes.PURCHASE,
    ),
    RouteCheck(
        "/api/import-gift-voucher/", "gift_voucher", "body", "object_or_list",
        purchases.gift_voucher,
        _field_key("voucher_id"), cap=100, envelope_checks=envelopes.VOUCHER,
    ),
    RouteCheck(
        "/api/v2/voucher/batch-import/", "gift_voucher", "body", "list", purchases.gift_voucher,
        _field_key("voucher_id"), cap=100, data_key="data_list",
        required=("api_key", "tid", "data_list"),
        missing_text="These values are required in post data : api_key, tid, data_list",
        envelope_checks=envelopes.VOUCHER,
    ),
    RouteCheck(
        "/api/v1/products/import/", "product", "body", "object", products.product,
        _field_key("id"), envelope_checks=envelopes.PRODUCT,
        success={"SUCCESS": True, "PAYLOAD": {"status": "OK"}},
    ),
    RouteCheck(
        "/api/v1/products/import-event-registration-data/", "event_registration", "body",
        "object", products.event_registration, _field_key("event_id"),
    ),
    RouteCheck(
        "/api/v1/products/import-product-guarantee-data/", "product_guarantee", "body", "object",
        products.product_guarantee, _field_key("warranty_id"),
    ),
    RouteCheck(
        "/api/v1/audiences/audiences-mapping/", "audience_mapping", "header", "body",
        audiences.audience_mapping,
        lambda body, _b: f"{body['source_system']}:{body['source_id']}",
        missing_text="source_id, source_system and mapping_key are required",
    ),
    RouteCheck(
        "/api/v2/audiences/batch-import-blacklist/", "blacklist", "body", "list",
        audiences.blacklist_value, lambda value, _b: str(value), cap=100,
        required=("tid", "search_key", "to_be_blacklisted", "data"),
        missing_text="Missing tid, search_key, to_be_blacklisted, data",
        envelope_checks=envelopes.BLACKLIST,
        size_text="size of batch import exceeds {cap}",
        empty_text="data is empty",
        stored=lambda _value, body: {
            "search_key": body["search_key"],
            "to_be_blacklisted": body["to_be_blacklisted"],
        },
    ),
    RouteCheck(
        "/api/v1/workflow/trigger/", "workflow_trigger", "body", "list", workflows.member_sn,
        lambda value, body: f"{body['node_id']}:{value}", cap=10_000,
        data_key="member_sn_list", required=("tid", "api_key", "node_id", "member_sn_list"),
        missing_text="These values are required: tid, api_key, node_id, member_sn_list",
        envelope_checks=envelopes.WORKFLOW_TRIGGER,
        stored=lambda _value, body: {"node_id": body["node_id"]},
        counts=True,
    ),
    RouteCheck(
        "/api/v1/beacon/track-event/", "event", "beacon", "body", events.event, _event_key,
        missing_text="Missing required fields: client_id, tid, hit_type",
    ),
    RouteCheck(
        "/api/v1/questionnaire/import-questionnaire-data/", "questionnaire", "header", "body",
        questionnaires.questionnaire, lambda body, _b: str(body["svid"]),
        missing_text="svid and title are required",
    ),
    _questionnaire_answers("/api/v1/questionnaire/import-audience-answers/"),
    _questionnaire_answers("/api/v1/questionnaire/import-audience-questionnaire-data/"),
)  # fmt: skip
