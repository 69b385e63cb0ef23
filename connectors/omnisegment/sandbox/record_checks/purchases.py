"""What the sandbox accepts in a purchase or a gift voucher: what a member bought or holds.

From Import-Purchase-Data-API.md, Batch-Import-Purchase-Data-API.md, Import-Gift-Voucher.md and
Batch-Import-Gift-Voucher.md; both find the member by `identifier_field` (or not, when anonymous).
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
    custom_value,
    filled_fields,
    first,
    int_fields,
    is_filled,
    is_number,
    is_text,
    iso_fields,
    need,
    need_member,
    only,
    parse_voucher_date,
    text_fields,
)

_LOOKUP = ("line_id", "phone", "email", "messenger_psid")

# -- purchase (Import-Purchase-Data-API.md) -----------------------------------------------------

_PURCHASE_KNOWN = frozenset(
    {"member_sn", "source_id", "source_system", "datetime", "transaction_id",
     "transaction_revenue", "transaction_status", "quantities", "products", "products_name",
     "products_quantity", "physical_store_name", "shipping_address", "voucher", "coupon",
     "source", "device", "user_agent", *_LOOKUP}
)  # fmt: skip
_SHIPPING = frozenset(
    {"address1", "address2", "city", "company", "country", "country_code", "latitude",
     "longitude", "province", "province_code", "zip"}
)  # fmt: skip
_STATUSES = ("SUCCESS", "CANCEL", "REFUND", "FAIL", "SHIPPED", "PAID")
_DEVICES = ("PC", "ANDROID", "IPHONE", "IPAD", "MOBILEWEB")
_QUANTITIES = re.compile(r"\d+(,\d+)*")


def _lookup(item: dict[str, Any], where: str, envelope: Envelope) -> Problem:
    if envelope.get("is_anonymous") is True:
        return None
    return need_member(item, where, envelope.get("identifier_field") or "member_sn")


def purchase(item: Any, where: str, envelope: Envelope) -> Problem:
    """One purchase: member (unless anonymous), revenue, products, shipping, vouchers."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    return first(
        need(item, ("datetime", "transaction_id", "transaction_revenue"), where),
        _lookup(item, where, envelope),
        filled_fields(
            item, ("member_sn", "source_id", "source_system", "transaction_id", *_LOOKUP), where
        ),
        iso_fields(item, ("datetime",), where),
        _revenue(item, where),
        int_fields(item, ("quantities",), where),
        text_fields(
            item,
            ("products_name", "physical_store_name", "coupon", "source", "user_agent"),
            where,
            nullable=False,
        ),
        _purchase_values(item, where),
        _purchase_custom(item, where),
    )


def _revenue(item: dict[str, Any], where: str) -> Problem:
    if is_number(item["transaction_revenue"]):
        return None
    return INPUT, f"{where}.transaction_revenue should be a number"


def _purchase_values(item: dict[str, Any], where: str) -> Problem:
    if "transaction_status" in item and item["transaction_status"] not in _STATUSES:
        return INPUT, f"{where}.transaction_status should be one of {list(_STATUSES)}"
    if "device" in item and item["device"] not in _DEVICES:
        return INPUT, f"{where}.device should be one of {list(_DEVICES)}"
    if "products_quantity" in item and not (
        isinstance(item["products_quantity"], str)
        and _QUANTITIES.fullmatch(item["products_quantity"])
    ):
        return INPUT, f"{where}.products_quantity should be quantities separated by ','"
    products = item.get("products", "x")
    if isinstance(products, dict):
        if not products or not all(is_filled(k) and is_filled(v) for k, v in products.items()):
            return INPUT, f"{where}.products should map systems to product ids"
    elif not is_filled(products):
        return INPUT, f"{where}.products should be a string or an object"
    address = item.get("shipping_address", {"address1": "x"})
    if not isinstance(address, dict) or not is_filled(address.get("address1")):
        return MISSING, f"{where}.shipping_address.address1 is required"
    if problem := only(address, _SHIPPING, f"{where}.shipping_address"):
        return problem
    if problem := text_fields(
        address, tuple(_SHIPPING), f"{where}.shipping_address", nullable=True
    ):
        return problem
    vouchers = item.get("voucher", [])
    if not isinstance(vouchers, list):
        return INPUT, f"{where}.voucher should be a list"
    for i, voucher in enumerate(vouchers):
        if not isinstance(voucher, dict) or not is_filled(voucher.get("voucher_name")):
            return MISSING, f"{where}.voucher[{i}].voucher_name is required"
        if not all(is_text(v) for v in voucher.values()):
            return INPUT, f"{where}.voucher[{i}] custom fields should be strings"
    return None


def _purchase_custom(item: dict[str, Any], where: str) -> Problem:
    return custom_fields(item, _PURCHASE_KNOWN, 256, where)


# -- gift voucher (Import-Gift-Voucher.md) ------------------------------------------------------

_VOUCHER_KNOWN = frozenset(
    {"voucher_id", "member_sn", "source_id", "source_system", "voucher_type", "amount",
     "valid_from", "valid_util", "is_redeemed", "category", "custom_fields", "site", *_LOOKUP}
)  # fmt: skip


def gift_voucher(item: Any, where: str, envelope: Envelope) -> Problem:
    """One gift voucher: member, amount, validity dates, custom fields."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    return first(
        need(item, ("voucher_id", "voucher_type", "amount", "valid_from", "valid_util"), where),
        _lookup(item, where, envelope),
        only(item, _VOUCHER_KNOWN, where),
        filled_fields(
            item,
            ("voucher_id", "voucher_type", "member_sn", "source_id", "source_system", *_LOOKUP),
            where,
        ),
        int_fields(item, ("amount",), where),
        bool_fields(item, ("is_redeemed",), where),
        text_fields(item, ("category",), where, nullable=False),
        text_fields(item, ("site",), where, nullable=True),  # per voucher in openapi.yaml
        _voucher_values(item, where),
    )


def _voucher_values(item: dict[str, Any], where: str) -> Problem:
    for name in ("valid_from", "valid_util"):
        if parse_voucher_date(item[name]) is None:
            return INPUT, f"{where}.{name} should be like 2024-05-01 or 2024-05-01 12:00:00+08"
    custom = item.get("custom_fields", {})
    if not isinstance(custom, dict):
        return INPUT, f"{where}.custom_fields should be an object"
    for name, value in custom.items():
        if not custom_value(value, 128):
            return INPUT, f"{where}.custom_fields.{name}: text holds at most 128 characters"
    return None
