"""What the sandbox accepts in one record of each endpoint, from the reference pages' field tables.

Deliberately not derived from schemas/*.json: a difference between the two is a test failure.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.omnisegment._sandbox_values import (
    INPUT,
    MISSING,
    Problem,
    bool_fields,
    custom_value,
    filled_fields,
    first,
    int_fields,
    is_filled,
    is_int,
    is_number,
    is_text,
    is_url,
    iso_fields,
    need,
    only,
    parse_date,
    parse_iso_datetime,
    parse_voucher_date,
    text_fields,
)

Envelope = dict[str, Any]
_LOOKUP = ("line_id", "phone", "email", "messenger_psid")
_DECIMAL2 = re.compile(r"-?\d{1,15}(\.\d{1,2})?")


def _member(item: dict[str, Any], where: str, key: str = "member_sn", pair: bool = True) -> Problem:
    if is_filled(item.get(key)):
        return None
    if pair and is_filled(item.get("source_id")) and is_filled(item.get("source_system")):
        return None
    alternative = " or source_id with source_system" if pair else ""
    return MISSING, f"{where} requires {key}{alternative}"


# -- audience (Import-Audience-API.md) ----------------------------------------------------------

_AUDIENCE_TEXT = (
    "name", "first_name", "last_name", "email", "phone", "member_level", "register_type",
    "facebook_id", "google_id", "line_id", "messenger_psid", "fcm_token", "crm_pk", "tags",
    "iso_code", "sites", "city", "country", "province", "zip_code", "address",
)  # fmt: skip
_AUDIENCE_BOOL = (
    "is_subscriber", "is_subscriber_sms", "is_subscriber_line", "is_subscriber_pn", "is_active",
    "is_headless_account",
)  # fmt: skip
_AUDIENCE_DECIMAL = (
    "membership_renewal_diff", "membership_upgrade_diff", "membership_upgrade_oneday_diff",
    "point_balance", "credit_balance",
)  # fmt: skip
_AUDIENCE_KNOWN = frozenset(
    {"member_sn", "source_id", "source_system", "sex", "birthday", "register_date", "fcm_tokens",
     "email_channels", "line_channels", "membership_expire_at",
     *_AUDIENCE_TEXT, *_AUDIENCE_BOOL, *_AUDIENCE_DECIMAL}
)  # fmt: skip


def audience(item: Any, where: str, envelope: Envelope) -> Problem:
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    merge_key = envelope.get("merge_key") or "member_sn"
    if merge_key == "source_id":
        identity = need(item, ("source_id", "source_system"), where)
    else:
        identity = _member(item, where)
        if identity is None and merge_key != "member_sn" and not is_filled(item.get(merge_key)):
            identity = MISSING, f"{where} requires {merge_key} (the merge_key)"
    return first(
        identity,
        filled_fields(item, ("member_sn", "source_id", "source_system"), where),
        text_fields(item, _AUDIENCE_TEXT, where, nullable=True),
        bool_fields(item, _AUDIENCE_BOOL, where),
        _audience_values(item, where),
        _audience_lists(item, where),
        _audience_custom(item, where),
    )


def _audience_values(item: dict[str, Any], where: str) -> Problem:
    if "sex" in item and item["sex"] not in ("male", "female"):
        return INPUT, f"{where}.sex should be one of ['male', 'female']"
    if "birthday" in item and parse_date(item["birthday"]) is None:
        return INPUT, f"{where}.birthday should be in YYYY-MM-DD format"
    for name in ("register_date", "membership_expire_at"):
        if name in item and parse_iso_datetime(item[name]) is None:
            return INPUT, f"{where}.{name} should be in YYYY-MM-DDTHH:mm:ss+z format"
    for name in _AUDIENCE_DECIMAL:
        value = item.get(name, "0")
        if not (isinstance(value, str) and _DECIMAL2.fullmatch(value)):
            return INPUT, f"{where}.{name} should be a number with at most 2 decimals"
    return None


def _audience_lists(item: dict[str, Any], where: str) -> Problem:
    tokens = item.get("fcm_tokens", [])
    if not isinstance(tokens, list):
        return INPUT, f"{where}.fcm_tokens should be a list"
    for i, token in enumerate(tokens):
        here = f"{where}.fcm_tokens[{i}]"
        if not isinstance(token, dict) or not is_filled(token.get("token")):
            return MISSING, f"{here}.token is required"
        if "active" in token and not isinstance(token["active"], bool):
            return INPUT, f"{here}.active should be a boolean"
        if "type" in token and token["type"] not in ("ios", "android"):
            return INPUT, f"{here}.type should be one of ['ios', 'android']"
        if problem := only(token, frozenset({"token", "active", "type"}), here):
            return problem
    for name in ("email_channels", "line_channels"):
        channels = item.get(name, [])
        if not isinstance(channels, list):
            return INPUT, f"{where}.{name} should be a list"
        for i, channel in enumerate(channels):
            here = f"{where}.{name}[{i}]"
            if not isinstance(channel, dict) or not is_filled(channel.get("name")):
                return MISSING, f"{here}.name is required"
            if not isinstance(channel.get("subscription_status"), bool):
                return MISSING, f"{here}.subscription_status is required (a boolean)"
            if problem := only(channel, frozenset({"name", "subscription_status"}), here):
                return problem
    return None


def _audience_custom(item: dict[str, Any], where: str) -> Problem:
    for name in set(item) - _AUDIENCE_KNOWN:
        value = item[name]
        if isinstance(value, list):
            scalar = (str, int, float, bool, type(None))
            if all(
                isinstance(row, dict)
                and all(isinstance(v, scalar) and (not isinstance(v, float) or is_number(v))
                        for v in row.values())
                for row in value
            ):  # fmt: skip
                continue
            return INPUT, f"{where}.{name}: a json custom field is a list of objects"
        if not custom_value(value, 1025, extra=True):
            return INPUT, f"{where}.{name}: custom text fields hold at most 1025 characters"
    return None


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
    return _member(item, where, envelope.get("identifier_field") or "member_sn")


def purchase(item: Any, where: str, envelope: Envelope) -> Problem:
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
    for name in set(item) - _PURCHASE_KNOWN:
        if not custom_value(item[name], 256):
            return INPUT, f"{where}.{name}: custom text fields hold at most 256 characters"
    return None


# -- gift voucher (Import-Gift-Voucher.md) ------------------------------------------------------

_VOUCHER_KNOWN = frozenset(
    {"voucher_id", "member_sn", "source_id", "source_system", "voucher_type", "amount",
     "valid_from", "valid_util", "is_redeemed", "category", "custom_fields", *_LOOKUP}
)  # fmt: skip


def gift_voucher(item: Any, where: str, envelope: Envelope) -> Problem:
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


# -- product (Import-Product-API.md) ------------------------------------------------------------

_AVAILABILITY = ("in stock", "out of stock", "preorder", "available for order")
_PRICE = re.compile(r"\d+(\.\d+)?( [A-Z]{3})?")
_PRODUCT_KNOWN = frozenset(
    {"id", "title", "link", "availability", "image_link", "price", "brand", "sale_price",
     "sale_price_effective_date", "product_type", "item_group_id", "additional_image_link",
     "customfield_ignore_empty_value"}
)  # fmt: skip


def product(item: Any, where: str, _envelope: Envelope) -> Problem:
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
    if item["availability"] not in _AVAILABILITY:
        return INPUT, f"{where}.availability should be one of {list(_AVAILABILITY)}"
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
    for name in set(item) - _PRODUCT_KNOWN:
        if not custom_value(item[name], 256):
            return INPUT, f"{where}.{name}: custom text fields hold at most 256 characters"
    return None


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


# -- audience mapping, blacklist, event tracking ------------------------------------------------

_MAPPING_KEYS = ("member_sn", "phone", "email", "line_id")


def audience_mapping(body: Any, where: str, _envelope: Envelope) -> Problem:
    if any(not is_filled(body.get(n)) for n in ("source_id", "source_system", "mapping_key")):
        return MISSING, "source_id, source_system and mapping_key are required"
    key = body["mapping_key"]
    if key not in _MAPPING_KEYS:
        return INPUT, f"mapping_key should be one of {list(_MAPPING_KEYS)}"
    if not is_filled(body.get(key)):
        return MISSING, f"{key} is required when mapping_key is {key}"
    return first(
        only(body, frozenset({"source_id", "source_system", "mapping_key", *_MAPPING_KEYS}), where),
        filled_fields(body, _MAPPING_KEYS, where),
    )


def blacklist_value(value: Any, where: str, _envelope: Envelope) -> Problem:
    return None if is_filled(value) else (INPUT, f"{where} should be a non-empty string")


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


def event(body: Any, where: str, _envelope: Envelope) -> Problem:
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
                "event_label",
                "transaction_couponcode",
            ),
            where,
            nullable=False,
        ),
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
        quantity = item.get("quantity", "1")
        if not (is_text(quantity) and quantity.isdecimal() and quantity.isascii()):
            return INPUT, f"{here}.quantity should be a number as text"
        if problem := text_fields(
            item, ("category", "brand", "variant", "sku"), here, nullable=False
        ):
            return problem
    return None


def _event_shape(body: dict[str, Any]) -> Problem:
    action, category = body.get("event_action"), body.get("event_category")
    has_products = bool(body.get("products"))
    if body["hit_type"] == "pageview":
        return None if has_products else (MISSING, "a pageview requires products")
    if action is None:
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
    return (
        None if "event_value" in body else (MISSING, f"custom event {action} requires event_value")
    )
