"""What the sandbox accepts on each route, written from the reference pages (not from schemas/).

Each check returns (ERR_TYPE_KEY, message) for a 400, or None when the request is acceptable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Problem = tuple[str, str] | None

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _audience_item(item: Any, where: str) -> Problem:
    if not isinstance(item, dict):
        return "Input Error", f"{where} should be an object"
    member_sn = item.get("member_sn")
    if not member_sn and not (item.get("source_id") and item.get("source_system")):
        return "Missing Input Error", f"{where} requires member_sn or source_id with source_system"
    for name in ("member_sn", "source_id", "source_system", "name", "email", "phone", "tags"):
        if name in item and item[name] is not None and not isinstance(item[name], str):
            return "Input Error", f"{where}.{name} should be a string"
    if item.get("sex") not in (None, "", "none", "male", "female"):
        return "Input Error", f"{where}.sex should be one of ['male', 'female']"
    birthday = item.get("birthday")
    if birthday not in (None, "", "none") and not (
        isinstance(birthday, str) and _DATE.match(birthday)
    ):
        return "Input Error", f"{where}.birthday should be in YYYY-MM-DD format"
    for name in (
        "is_subscriber",
        "is_subscriber_sms",
        "is_subscriber_line",
        "is_subscriber_pn",
        "is_active",
        "is_headless_account",
    ):
        if name in item and item[name] is not None and not isinstance(item[name], bool):
            return "Input Error", f"{where}.{name} should be a boolean"
    return None


def _audience_key(item: dict[str, Any]) -> str:
    return str(item.get("member_sn") or f"{item.get('source_system')}:{item.get('source_id')}")


@dataclass(frozen=True)
class RouteCheck:
    path: str
    endpoint: str  # name under which accepted records are kept
    auth: str  # "body" or "header"
    cap: int  # 1: `data` is one object; otherwise a list of at most cap objects
    item_check: Callable[[Any, str], Problem]
    item_key: Callable[[dict[str, Any]], str]
    required: tuple[str, ...] = ("api_key", "tid", "data")
    success: Any = None

    @property
    def missing_message(self) -> str:
        return f"These values are required in post data : {', '.join(self.required)}"

    def validate(self, body: dict[str, Any]) -> Problem:
        if any(body.get(name) in (None, "", []) for name in self.required):
            return "Missing Input Error", self.missing_message
        data = body["data"]
        if self.cap == 1:
            return self.item_check(data, "data")
        if not isinstance(data, list):
            return "Input Error", "data should be a list"
        if len(data) > self.cap:
            return "Input Error", f"data should not contain more than {self.cap} items"
        for i, item in enumerate(data):
            problem = self.item_check(item, f"data[{i}]")
            if problem is not None:
                return problem
        return None

    def records(self, body: dict[str, Any]) -> Iterable[tuple[str, Any]]:
        items = [body["data"]] if self.cap == 1 else body["data"]
        return ((self.item_key(item), item) for item in items)


ROUTES: tuple[RouteCheck, ...] = (
    RouteCheck(
        "/ma_audience/import-audience/",
        "audience",
        "body",
        1,
        _audience_item,
        _audience_key,
        success={"SUCCESS": True, "PAYLOAD": {"status": "OK", "error_msg": ""}},
    ),
    RouteCheck(
        "/api/v2/audiences/batch-import/",
        "audience",
        "body",
        50,
        _audience_item,
        _audience_key,
        success={"SUCCESS": True, "PAYLOAD": None},
    ),
)
