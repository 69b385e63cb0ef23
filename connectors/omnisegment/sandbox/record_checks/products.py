"""What the sandbox accepts in a product, an event registration or a product guarantee.

From Import-Product-API.md, Import-Event-Registration-API.md and Import-Product-Guarantee-API.md;
the paths are all under /api/v1/products/.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.omnisegment.sandbox.values import (
    INPUT,
    MISSING,
    Envelope,
    Problem,
    bool_fields,
    custom_fields,
    filled_fields,
    first,
    int_fields,
    is_filled,
    is_number,
    is_text,
    is_url,
    iso_fields,
    need,
    only,
    parse_iso_datetime,
    text_fields,
)

# -- product (Import-Product-API.md) ------------------------------------------------------------

_PRICE = re.compile(r"\d+(\.\d+)?( [A-Z]{3})?")
_PRODUCT_KNOWN = frozenset(
    {"id", "title", "link", "availability", "image_link", "price", "brand", "sale_price",
     "sale_price_effective_date", "product_type", "item_group_id", "additional_image_link",
     "customfield_ignore_empty_value"}
)  # fmt: skip


def product(item: Any, where: str, _envelope: Envelope) -> Problem:
    """One product of the catalogue: id, links, availability and prices as text."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    return first(
        need(item, ("id", "title", "link", "availability", "image_link", "price"), where),
        _product_id(item["id"], where),
        filled_fields(item, ("title",), where),
        text_fields(item, ("brand", "product_type", "item_group_id"), where, nullable=False),
        bool_fields(item, ("customfield_ignore_empty_value",), where),
        _product_values(item, where),
    )


def _product_id(value: Any, where: str) -> Problem:
    if is_filled(value):
        return None
    if (
        isinstance(value, dict)
        and is_filled(value.get("default"))
        and all(is_filled(k) and is_filled(v) for k, v in value.items())
    ):
        return None
    return INPUT, f"{where}.id should be a string or an object of system ids with 'default'"


def _product_values(item: dict[str, Any], where: str) -> Problem:
    for name in ("link", "image_link"):
        if not is_url(item[name]):
            return INPUT, f"{where}.{name} should start with http:// or https://"
    if not is_filled(item["availability"]):  # in stock, available for order, preorder: yes; else no
        return INPUT, f"{where}.availability should be a non-empty string"
    for name in ("price", "sale_price"):
        value = item.get(name, "0")
        if not (isinstance(value, str) and _PRICE.fullmatch(value)):
            return INPUT, f"{where}.{name} should be a number and an ISO 4217 code, e.g. 999 TWD"
    if "sale_price_effective_date" in item:
        value = item["sale_price_effective_date"]
        start, _, end = value.partition("/") if isinstance(value, str) else ("", "", "")
        first_, last = parse_iso_datetime(start), parse_iso_datetime(end)
        if first_ is None or last is None or last < first_:
            return INPUT, f"{where}.sale_price_effective_date should be start/end datetimes"
    images = item.get("additional_image_link", [])
    if not isinstance(images, list):
        return INPUT, f"{where}.additional_image_link should be a list"
    for i, image in enumerate(images):
        if not (
            isinstance(image, dict) and is_text(image.get("name")) and is_url(image.get("link"))
        ):
            return INPUT, f"{where}.additional_image_link[{i}] needs a name and a link"
        if problem := only(
            image, frozenset({"name", "link"}), f"{where}.additional_image_link[{i}]"
        ):
            return problem
    return custom_fields(item, _PRODUCT_KNOWN, 256, where)


# -- event registration and product guarantee ---------------------------------------------------


def _pair(item: dict[str, Any], start: str, end: str, where: str) -> Problem:
    if (start in item) != (end in item):
        return MISSING, f"{where}: {start} and {end} must be given together"
    if start in item:
        a, b = parse_iso_datetime(item[start]), parse_iso_datetime(item[end])
        if a is not None and b is not None and b <= a:
            return INPUT, f"{where}.{end} should be later than {start}"
    return None


_REGISTRATION_KNOWN = frozenset(
    {"event_id", "member_sn", "products", "registration_datetime", "purchase_datetime",
     "event_name", "purchase_source", "purchase_city", "delivery_address", "is_available",
     "event_start_datetime", "event_end_datetime"}
)  # fmt: skip


def event_registration(item: Any, where: str, _envelope: Envelope) -> Problem:
    """One event registration: member, event, products and times (start before end)."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    return first(
        need(item, ("event_id", "member_sn", "event_name", "registration_datetime"), where),
        only(item, _REGISTRATION_KNOWN, where),
        filled_fields(item, ("event_id", "member_sn", "event_name"), where),
        text_fields(
            item, ("purchase_source", "purchase_city", "delivery_address"), where, nullable=False
        ),
        bool_fields(item, ("is_available",), where),
        iso_fields(
            item,
            (
                "registration_datetime",
                "purchase_datetime",
                "event_start_datetime",
                "event_end_datetime",
            ),
            where,
        ),
        _registration_products(item.get("products", {}), where),
        _pair(item, "event_start_datetime", "event_end_datetime", where),
    )


def _registration_products(products: Any, where: str) -> Problem:
    if not isinstance(products, dict) or set(products) - {"default", "sku"}:
        return INPUT, f"{where}.products should be an object with default and/or sku"
    for name, ids in products.items():
        if not isinstance(ids, list) or not all(is_filled(i) for i in ids):
            return INPUT, f"{where}.products.{name} should be a list of ids"
    return None


def product_guarantee(item: Any, where: str, _envelope: Envelope) -> Problem:
    """One product guarantee: member, product, dates, plus organisation fields."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    product_key = "product" if "product" in item else "products"
    return first(
        need(
            item,
            ("warranty_id", "member_sn", product_key, "registration_datetime", "purchase_datetime"),
            where,
        ),
        filled_fields(item, ("warranty_id", "member_sn"), where),
        _guarantee_product(item, where),
        text_fields(
            item,
            ("warranty_name", "purchase_source", "purchase_city", "purchase_receipt"),
            where,
            nullable=False,
        ),
        int_fields(item, ("product_quantity",), where),
        bool_fields(item, ("is_available",), where),
        iso_fields(
            item,
            (
                "registration_datetime",
                "purchase_datetime",
                "warranty_start_datetime",
                "warranty_end_datetime",
            ),
            where,
        ),
        _pair(item, "warranty_start_datetime", "warranty_end_datetime", where),
        _guarantee_extra(item, where),
    )


def _guarantee_product(item: dict[str, Any], where: str) -> Problem:
    for key in ("product", "products"):
        if key in item:
            value = item[key]
            ok = isinstance(value, dict) and value and not set(value) - {"default", "sku"}
            if not ok or not all(is_filled(v) for v in value.values()):
                return INPUT, f"{where}.{key} should be an object with default and/or sku"
    return None


_GUARANTEE_KNOWN = frozenset(
    {"warranty_id", "member_sn", "product", "products", "registration_datetime",
     "purchase_datetime", "warranty_name", "purchase_source", "purchase_city", "purchase_receipt",
     "product_quantity", "is_available", "warranty_start_datetime", "warranty_end_datetime"}
)  # fmt: skip


def _guarantee_extra(item: dict[str, Any], where: str) -> Problem:
    for name in set(item) - _GUARANTEE_KNOWN:
        value = item[name]
        if not (value is None or isinstance(value, str | bool) or is_number(value)):
            return INPUT, f"{where}.{name}: organisation fields hold plain values"
    return None
