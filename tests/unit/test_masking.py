"""Reject files keep enough of a personal value to recognise it, not enough to use it."""

from __future__ import annotations

from engine.pii import mask, mask_fields


def test_emails_keep_their_domain_and_first_letter() -> None:
    assert mask("ming.wang@example.com") == "m***@example.com"


def test_phones_and_names_keep_only_their_ends() -> None:
    assert mask("+886912345678") == "+8*********78"
    assert mask("王小明") == "王**"
    assert mask("李") == "*"


def test_only_personal_fields_of_a_record_are_masked() -> None:
    record = {"member_sn": "M1", "email": "a@b.tw", "shipping_address": {"city": "台北市"}}

    masked = mask_fields(record, frozenset({"email", "shipping_address"}))

    assert masked == {"member_sn": "M1", "email": "a***@b.tw", "shipping_address": {"city": "台**"}}


def test_a_bare_value_such_as_a_blacklist_entry_is_masked() -> None:
    assert mask_fields("someone@example.com", frozenset()) == "s***@example.com"
