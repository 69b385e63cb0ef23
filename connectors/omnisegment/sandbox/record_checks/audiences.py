"""What the sandbox accepts in audience records: import (single and batch), mapping, blacklist.

From Import-Audience-API.md, Batch-Import-Audience-API.md, Audience-Mapping-API.md and
Batch-Import-Blacklist-API.md; the paths are all under /audiences/.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.omnisegment.sandbox.values import (
    CLEARING,
    INPUT,
    MISSING,
    Envelope,
    Problem,
    bool_fields,
    custom_fields,
    filled_fields,
    first,
    is_email,
    is_filled,
    is_number,
    need,
    need_member,
    only,
    parse_date,
    parse_iso_datetime,
    text_fields,
)

_DECIMAL2 = re.compile(r"-?\d{1,15}(\.\d{1,2})?")

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
    """One audience record; which member key it needs follows the envelope's merge_key."""
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    merge_key = envelope.get("merge_key") or "member_sn"
    if merge_key == "source_id":
        identity = need(item, ("source_id", "source_system"), where)
    elif merge_key == "member_sn":
        identity = need_member(item, where)
    else:  # openapi.yaml's merge_key table: the merge key's field, no member_sn needed
        identity = need(item, (merge_key,), where)
    flags = {name: item[name] for name in _AUDIENCE_BOOL if item.get(name) not in CLEARING}
    return first(
        identity,
        _kept(item, ("member_sn", "source_id", "source_system", merge_key), where),
        filled_fields(item, ("member_sn", "source_id", "source_system"), where),
        text_fields(item, _AUDIENCE_TEXT, where, nullable=True),
        bool_fields(flags, _AUDIENCE_BOOL, where),
        _audience_values(item, where),
        _audience_lists(item, where),
        _audience_custom(item, where),
    )


def _kept(item: dict[str, Any], names: tuple[str, ...], where: str) -> Problem:
    """The page: "無法被清空的欄位依舊無法被清空，否則會出現錯誤" (a field that cannot be cleared
    stays so, else an error). The member keys and the merge key's field cannot: "none" there
    (which clears under either ignore_empty_value) is refused."""
    for name in names:
        if item.get(name) == "none":  # '' and null there are refused as missing or empty
            return INPUT, f"{where}.{name} cannot be cleared: it identifies the member"
    return None


def _audience_values(item: dict[str, Any], where: str) -> Problem:
    item = {name: value for name, value in item.items() if value not in CLEARING}
    if "email" in item and not is_email(item["email"]):
        return INPUT, f"{where}.email should be an email address"
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
    if tokens in CLEARING:  # ignore_empty_value's clearing values, as for any clearable field
        tokens = []
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
        if channels in CLEARING:
            continue
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
    for name in sorted(set(item) - _AUDIENCE_KNOWN):
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
    lists = frozenset(n for n, v in item.items() if isinstance(v, list))
    return custom_fields(item, _AUDIENCE_KNOWN | lists, 1025, where, extra=True)


# -- audience mapping (Audience-Mapping-API.md), blacklist (Batch-Import-Blacklist-API.md) -----

_MAPPING_KEYS = ("member_sn", "phone", "email", "line_id")


def audience_mapping(body: Any, where: str, _envelope: Envelope) -> Problem:
    """The body of an audience mapping: a source id pair mapped to one member field."""
    if any(not is_filled(body.get(n)) for n in ("source_id", "source_system", "mapping_key")):
        return MISSING, "source_id, source_system and mapping_key are required"
    key = body["mapping_key"]
    if key not in _MAPPING_KEYS:
        return INPUT, f"mapping_key should be one of {list(_MAPPING_KEYS)}"
    if not is_filled(body.get(key)):
        return MISSING, f"{key} is required when mapping_key is {key}"
    if "email" in body and not is_email(body["email"]):
        return INPUT, "email should be an email address"
    return first(
        only(body, frozenset({"source_id", "source_system", "mapping_key", *_MAPPING_KEYS}), where),
        filled_fields(body, _MAPPING_KEYS, where),
    )


def blacklist_value(value: Any, where: str, _envelope: Envelope) -> Problem:
    """One value of a blacklist batch (the search_key field's value): non-empty text."""
    return None if is_filled(value) else (INPUT, f"{where} should be a non-empty string")
