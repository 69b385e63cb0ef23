"""What the sandbox accepts around the records: each route's envelope options, from the reference.

Each check looks at the whole request body and returns a `Problem` or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.omnisegment.sandbox.values import INPUT, Envelope, Problem, is_text

EnvelopeCheck = Callable[[Envelope], Problem]

_LOOKUPS = ("line_id", "phone", "email", "messenger_psid")
_MERGE_KEYS = ("member_sn", "line_id", "email", "phone", "messenger_psid")
_BLACKLIST_KEYS = ("email", "phone", "line_id", "messenger_psid", "member_sn")


def one_of(name: str, choices: tuple[Any, ...]) -> EnvelopeCheck:
    """`name`, when given, must be one of `choices`."""

    def check(body: Envelope) -> Problem:
        if name in body and body[name] not in choices:
            return INPUT, f"{name} should be one of {list(choices)}"
        return None

    return check


def boolean(name: str) -> EnvelopeCheck:
    """`name`, when given, must be a boolean."""

    def check(body: Envelope) -> Problem:
        if name in body and not isinstance(body[name], bool):
            return INPUT, f"{name} should be a boolean"
        return None

    return check


def integer(name: str) -> EnvelopeCheck:
    """`name` must be a JSON integer (not a boolean, not text)."""

    def check(body: Envelope) -> Problem:
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            return INPUT, f"{name} should be an integer"
        return None

    return check


def site(body: Envelope) -> Problem:
    """The site of a multi-site organisation: a string or null."""
    if body.get("site") is not None and not is_text(body["site"]):
        return INPUT, "site should be a string or null"
    return None


def custom_identifier(body: Envelope) -> Problem:
    """custom_fields_identifier_field maps json custom fields to the sub-field naming an item."""
    value = body.get("custom_fields_identifier_field", {})
    if not isinstance(value, dict) or not all(is_text(v) and v for v in value.values()):
        return INPUT, "custom_fields_identifier_field should map json custom fields to sub-fields"
    return None


AUDIENCE_SINGLE = (
    one_of("merge_key", (*_MERGE_KEYS, "source_id")),
    one_of("tag_mode", ("append", "replace")),
    boolean("ignore_empty_value"),
)
AUDIENCE_BATCH = (
    one_of("merge_key", _MERGE_KEYS),
    one_of("tag_mode", ("append", "replace")),
    boolean("ignore_empty_value"),
    custom_identifier,
)
PURCHASE = (boolean("is_anonymous"), one_of("identifier_field", _LOOKUPS))
PURCHASE_SINGLE = (*PURCHASE, one_of("debug_mode", (0, 1, "0", "1")))
VOUCHER = (site, one_of("identifier_field", _LOOKUPS))
PRODUCT = (site,)
BLACKLIST = (one_of("search_key", _BLACKLIST_KEYS), boolean("to_be_blacklisted"))
WORKFLOW_TRIGGER = (integer("node_id"),)
