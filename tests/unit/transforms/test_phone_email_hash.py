"""phone, email and hash on the shapes found in member exports."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from engine.transforms.base import Transform, TransformError

Make = Callable[..., Transform]
TW = {"region": "TW"}


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (TW, "0912-345-678", "+886912345678"),
        (TW, "0912345678", "+886912345678"),
        (TW, "0912 345 678", "+886912345678"),
        (TW, "(02) 2345-6789", "+886223456789"),
        (TW, "02-23456789#123", "+886223456789"),
        (TW, "+886 912 345 678", "+886912345678"),
        (TW, "886912345678", "+886912345678"),
        (TW, "+81 90-1234-5678", "+819012345678"),
        (TW, 912345678, "+886912345678"),
        (
            TW,
            "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
            "+886912345678",
        ),  # full-width
        (TW, "", None),
        ({"region": "JP"}, "090-1234-5678", "+819012345678"),
        ({"region": "JP"}, "03-1234-5678", "+81312345678"),
        (None, "+886912345678", "+886912345678"),
        ({"region": "TW", "format": "international"}, "0912345678", "+886 912 345 678"),
        ({"region": "TW", "format": "national"}, "+886912345678", "0912 345 678"),
        ({"region": "TW", "validate": "possible"}, "0812345678", "+886812345678"),
    ],
)
def test_phone(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Taiwanese and Japanese numbers, written every way, end as E.164."""
    assert make("phone", args)(value) == expected


@pytest.mark.parametrize(
    ("args", "value", "reason"),
    [
        (TW, "12345", "not a valid number"),
        (TW, "0912-345", "not a valid number"),
        (TW, "not a phone", "not a phone number"),
        (TW, "0812345678", "not a valid number"),
        (None, "0912345678", "no country code"),
        (TW, "0" * 80, "too long"),
        (TW, ["0912345678"], "expects text"),
    ],
)
def test_phone_rejects(make: Make, args: Any, value: Any, reason: str) -> None:
    """Invalid numbers reject the row with the reason."""
    with pytest.raises(TransformError, match=reason):
        make("phone", args)(value)


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (None, " Alice@Example.COM ", "Alice@example.com"),
        ({"lowercase_local": True}, "Alice@Example.COM", "alice@example.com"),
        (None, "chen.wei+news@mail.ncku.edu.tw", "chen.wei+news@mail.ncku.edu.tw"),
        (None, "user@例え.jp", "user@例え.jp"),
        (None, "o'brien@example.ie", "o'brien@example.ie"),
        (None, "x@xn--fiqs8s.xn--kpry57d", "x@xn--fiqs8s.xn--kpry57d"),
        (None, "   ", None),
    ],
)
def test_email(make: Make, args: Any, value: Any, expected: Any) -> None:
    """Addresses are trimmed and their domain lowercased."""
    assert make("email", args)(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "alice@example..com",
        "alice@-example.com",
        "alice@example.c",
        "alice@example.123",
        "al..ice@example.com",
        "alice@example.com.",
        "a" * 65 + "@example.com",
        "alice@example_x.com",
        42,
    ],
)
def test_email_rejects(make: Make, value: Any) -> None:
    """What is plainly not an address is a row error."""
    with pytest.raises(TransformError, match="email"):
        make("email")(value)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (None, "alice@example.com", _sha("alice@example.com")),
        (None, " Alice ", _sha(" Alice ")),
        ({"trim": True, "lowercase": True}, " Alice ", _sha("alice")),
        ({"salt": "s3cr3t"}, "alice", _sha("s3cr3talice")),
        (None, 12345, _sha("12345")),
        (None, "王小明", _sha("王小明")),
    ],
)
def test_hash(make: Make, args: Any, value: Any, expected: str) -> None:
    """SHA-256 hex of salt + normalised UTF-8 text."""
    assert make("hash", args)(value) == expected


def test_phone_cache_repeats_answers_and_rejections(make: Make) -> None:
    """A repeated number gives the same result, and a bad one rejects every time."""
    phone = make("phone", TW)
    assert phone("0912-345-678") == phone("0912-345-678") == "+886912345678"
    for _ in range(2):
        with pytest.raises(TransformError, match="not a valid number"):
            phone("0812345678")


def test_phone_caches_are_per_transform(make: Make) -> None:
    """Two fields with different regions never share cached answers."""
    assert make("phone", {"region": "JP"})("090-1234-5678") == "+819012345678"
    with pytest.raises(TransformError):
        make("phone", TW)("090-1234-5678")


@pytest.mark.parametrize(
    ("region", "text", "expected"),
    [
        ("TW", "0912-345-678", "+886912345678"),
        ("TW", "+886 912 345 678", "+886912345678"),
        ("TW", "(02) 2345-6789", "+886223456789"),
        ("TW", "0994-641-177", "+886994641177"),  # a personal number, not a mobile
        ("JP", "090-1234-5678", "+819012345678"),
        ("JP", "03-1234-5678", "+81312345678"),
        ("US", "(201) 555-0123", "+12015550123"),
    ],
)
def test_phone_fast_path_covers_everyday_shapes(region: str, text: str, expected: str) -> None:
    """The common cell shapes skip the full library parse (and agree with it, see properties)."""
    from engine.transforms.builtin.phone import _fast_e164

    assert _fast_e164(region)(text) == expected
