"""Reject files keep enough of a personal value to recognise it, not enough to use it."""

from __future__ import annotations

from engine.pii import mask, mask_fields, mask_text


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


def test_a_name_keeps_only_its_first_character_never_its_given_name() -> None:
    """The end of a name is the given name: `Smith冠宇` showed 冠宇 as `Sm***冠宇`."""
    assert mask("Smith冠宇") == "S******"
    assert mask("Alice Chen") == "A*********"
    assert mask("歐陽冠宇") == "歐***"
    assert mask("冠宇") == "**"


def test_a_url_user_is_not_an_address() -> None:
    """`postgresql://app@db` came out as `postgresql:/***@db`: the URL lost a slash and its user."""
    assert mask_text("postgresql://app@db.example.com:5432/app") == (
        "postgresql://app@db.example.com:5432/app"
    )
    assert mask_text("mysql+pymysql://root@127.0.0.1:3306/test: refused") == (
        "mysql+pymysql://root@127.0.0.1:3306/test: refused"
    )
    assert mask_text("postgresql://app:***@db/app") == "postgresql://app:***@db/app"


def test_an_address_in_a_path_or_sentence_is_still_masked() -> None:
    assert mask_text("s3://exports/bob@example.com.csv") == "s3://exports/b***@example.com.csv"
    assert mask_text("write to alice.chen@example.com now") == "write to a***@example.com now"
