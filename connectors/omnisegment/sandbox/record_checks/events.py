"""What the sandbox accepts in a tracked event (Event-Tracking-API.md, the beacon route)."""

from __future__ import annotations

import re
from typing import Any

from connectors.omnisegment.sandbox.values import (
    INPUT,
    MISSING,
    Envelope,
    Problem,
    filled_fields,
    first,
    int_fields,
    is_filled,
    is_int,
    is_text,
    json_object_fields,
    only,
    text_fields,
)

_PRODUCT_EVENTS = ("ClickProduct", "AddToCart", "RemoveFromCart", "Checkout")
_ORDER_EVENTS = ("Purchase", "Refund")
_EVENT_KNOWN = frozenset(
    {"client_id", "uid", "tid", "version", "hit_type", "data_source", "app_id", "app_version",
     "app_name", "currency_code", "document_location", "document_title", "event_action",
     "event_category", "event_label", "event_value", "products", "transaction_revenue",
     "transaction_id", "transaction_tax", "transaction_shipping", "transaction_couponcode"}
)  # fmt: skip
_TRACKING_PRODUCT = frozenset(
    {"id", "name", "price", "category", "brand", "quantity", "variant", "sku"}
)
_CURRENCY = re.compile(r"[A-Z]{3}")
_LISTED_ACTIONS = ("ViewContent", "AddToWishlist", "FormFillOut")


def event(body: Any, where: str, _envelope: Envelope) -> Problem:
    """A tracked event's whole body: the beacon's required fields, then what its action needs."""
    required = ("client_id", "tid", "hit_type", "data_source", "version")
    missing = [n for n in required if not is_filled(body.get(n))]
    if missing:
        return MISSING, f"Missing required fields: {', '.join(missing)}"
    return first(
        only(body, _EVENT_KNOWN, where),
        _choice(body, "hit_type", ("pageview", "event")),
        _choice(body, "data_source", ("web", "app")),
        filled_fields(
            body, ("uid", "event_action", "event_category", "event_value", "transaction_id"), where
        ),
        text_fields(
            body,
            (
                "app_id",
                "app_version",
                "app_name",
                "document_location",
                "document_title",
                "transaction_couponcode",
            ),
            where,
            nullable=False,
        ),
        json_object_fields(body, ("event_label",), where),
        int_fields(body, ("transaction_revenue", "transaction_tax", "transaction_shipping"), where),
        _currency(body.get("currency_code", "TWD")),
        _event_products(body.get("products", []), body.get("event_action") in _ORDER_EVENTS),
        _event_shape(body),
    )


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...]) -> Problem:
    return None if body[name] in choices else (INPUT, f"{name} should be one of {list(choices)}")


def _currency(value: Any) -> Problem:
    if is_text(value) and _CURRENCY.fullmatch(value):
        return None
    return INPUT, "currency_code should be an ISO 4217 code"


def _event_products(products: Any, order: bool) -> Problem:
    if not isinstance(products, list):
        return INPUT, "products should be a list"
    if len(products) > 30:
        return INPUT, "products should not contain more than 30 items"
    for i, item in enumerate(products):
        here = f"products[{i}]"
        if not isinstance(item, dict) or not (
            is_filled(item.get("id")) and is_filled(item.get("name"))
        ):
            return MISSING, f"{here} requires id and name"
        if order and "quantity" not in item:
            return MISSING, f"{here} requires quantity in a Purchase or Refund"
        if problem := only(item, _TRACKING_PRODUCT, here):
            return problem
        if "price" in item and not is_int(item["price"]):
            return INPUT, f"{here}.price should be an integer"
        quantity = item.get("quantity", "1")  # "2" in the tables, 2 in the purchase example
        if not (is_int(quantity) and quantity >= 0) and not (
            is_text(quantity) and quantity.isdecimal() and quantity.isascii()
        ):
            return INPUT, f"{here}.quantity should be a whole number"
        if problem := text_fields(item, ("category", "brand", "sku"), here, nullable=False):
            return problem
        if problem := json_object_fields(item, ("variant",), here):
            return problem
    return None


def _event_shape(body: dict[str, Any]) -> Problem:
    action, category = body.get("event_action"), body.get("event_category")
    has_products = bool(body.get("products"))
    if action is None:  # a pageview without an action is a product (detail) impression
        if body["hit_type"] == "pageview":
            return None if has_products else (MISSING, "a pageview requires products")
        return MISSING, "an event requires event_action"
    if action in _PRODUCT_EVENTS or action in _ORDER_EVENTS:
        if category != "Ecommerce":
            return INPUT, f"{action} requires event_category 'Ecommerce'"
        if not has_products:
            return MISSING, f"{action} requires products"
        if action in _ORDER_EVENTS and not (
            "transaction_id" in body and "transaction_revenue" in body
        ):
            return MISSING, f"{action} requires transaction_id and transaction_revenue"
        return None
    if action == "CompleteRegistration":
        return None if category else (MISSING, "CompleteRegistration requires event_category")
    if action == "Search":
        return None if category == "Search" else (INPUT, "Search requires event_category 'Search'")
    if action in _LISTED_ACTIONS:  # the parameter table's other choices: not custom events
        return None
    return (
        None if "event_value" in body else (MISSING, f"custom event {action} requires event_value")
    )
