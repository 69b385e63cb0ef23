"""Valid records per endpoint, from the reference pages' examples, for the endpoint tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    endpoint: str
    records: list[dict[str, Any]]
    required: tuple[str, ...]  # removing any one of these gets the record rejected locally
    options: dict[str, Any] = field(default_factory=dict)
    mode: str | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.mode or 'auto'}"


def _members(n: int) -> list[dict[str, Any]]:
    return [
        {
            "member_sn": f"M{i:03d}",
            "name": "Eason Lee",
            "email": f"eason{i}@example.com",
            "phone": "+886912345678",
            "sex": "female" if i % 2 else "male",
            "birthday": "1990-01-01",
            "register_date": "2020-06-04T08:30:37.235482+08:00",
            "fcm_tokens": [{"token": "fcm_token", "active": True, "type": "android"}],
            "is_subscriber": True,
            "tags": "tag_a,tag_b",
            "email_channels": [{"name": "email", "subscription_status": False}],
            "membership_renewal_diff": "1234.12",
            "membership_expire_at": "2025-07-23T08:30:37+08:00",
            "nickname": "N" * 1025,
            "bonus": [{"bonus_point": "678", "bonus_expire_date": "2025-06-04T08:30:37+08:00"}],
        }
        for i in range(n)
    ]


def _purchases(n: int) -> list[dict[str, Any]]:
    return [
        {
            "member_sn": "1",
            "datetime": "2020-01-01T00:00:00+0800",
            "transaction_id": f"T{i:04d}",
            "transaction_revenue": 5000.5,
            "transaction_status": "SUCCESS",
            "quantities": 2,
            "products": "P001,P002" if i % 2 else {"default": "P001", "CRM": "CRM-P001"},
            "products_name": "Product1,Product2",
            "products_quantity": "1,1",
            "shipping_address": {
                "address1": "123 Shipping Street",
                "address2": None,
                "zip": "40003",
            },
            "voucher": [{"voucher_name": "birthday_gift"}],
            "device": "IPHONE",
            "purchase_custom_text": "t" * 256,
            "purchase_custom_number": 1,
        }
        for i in range(n)
    ]


def _vouchers(n: int) -> list[dict[str, Any]]:
    dates = [
        "2024-05-01",
        "2024-05-01 12:00:00",
        "2024-05-01 12:00:00+08",
        "2024-05-01T12:00:00+08",
    ]
    return [
        {
            "voucher_id": f"V{i:03d}",
            "member_sn": "AAAAAA",
            "voucher_type": "birthday_gift",
            "amount": 999,
            "valid_from": dates[i % 4],
            "valid_util": "2025-03-03",
            "is_redeemed": False,
            "category": "coupon",
            "custom_fields": {"voucher_custom_text": "x" * 128, "voucher_custom_number": 1},
        }
        for i in range(n)
    ]


PRODUCT = {
    "id": {"default": "1", "CRM": "crm_id"},
    "title": "一件普通衣服",
    "link": "http://test.com/products/normal-shirt",
    "availability": "in stock",
    "image_link": "https://test.com/media/shirt.png?sha=0e0ad71b",
    "price": "999 TWD",
    "sale_price": "1",
    "sale_price_effective_date": "2020-08-01T00:00:00+08:00/2020-08-31T23:59:59+08:00",
    "product_type": "T-shirt",
    "additional_image_link": [{"name": "100x100", "link": "https://test.com/100.png"}],
    "customfield_ignore_empty_value": False,
    "口味": "巧克力",
}
REGISTRATION = {
    "event_id": "qqq123",
    "member_sn": "www123",
    "products": {"default": ["item_group_id1"], "sku": ["sku_id1"]},
    "registration_datetime": "2022-08-17T12:00:00+08:00",
    "event_name": "buy1get1",
    "delivery_address": "台北市XXXXX",
    "is_available": True,
    "event_start_datetime": "2022-08-17T12:00:00+08:00",
    "event_end_datetime": "2022-09-17T12:00:00+08:00",
}
GUARANTEE = {
    "warranty_id": "qqq123",
    "member_sn": "www123",
    "product": {"default": "item_group_id1", "sku": "sku_id1"},
    "registration_datetime": "2022-08-17T12:00:00+08:00",
    "purchase_datetime": "2022-08-17T12:00:00+08:00",
    "product_quantity": 1,
    "warranty_start_datetime": "2022-08-17T12:00:00+08:00",
    "warranty_end_datetime": "2022-09-17T12:00:00+08:00",
}
MAPPING = {
    "source_id": "12345",
    "source_system": "CRM",
    "mapping_key": "phone",
    "phone": "+886987654321",
}
PURCHASE_EVENT = {
    "client_id": "EA7583CD-A667-48BC-B806-42ECB2B48606",
    "uid": "139540",
    "data_source": "app",
    "hit_type": "event",
    "event_action": "Purchase",
    "event_category": "Ecommerce",
    "transaction_id": "#8701873727",
    "transaction_revenue": 3400,
    "currency_code": "TWD",
    "products": [{"id": "DCAN8J", "name": "羅技 M221", "quantity": "2", "price": 800}],
}
VIEW_EVENT = {
    "client_id": "1235621.1252357334",
    "data_source": "web",
    "hit_type": "pageview",
    "products": [{"id": "DCAN8J", "name": "羅技 M221", "variant": '{"color": "藍色"}'}],
}
CUSTOM_EVENT = {
    "client_id": "EA7583CD",
    "data_source": "web",
    "hit_type": "event",
    "event_action": "Subscribe",
    "event_value": '{"code": "T12094", "number": 19.38}',
}
QUESTIONNAIRE = {
    "svid": "12345678",
    "title": "服務滿意度問卷",
    "questions": [
        {"sn": 0, "text": "單行文字", "type": "TXTSHORT"},
        {"sn": 1, "text": "單選題", "type": "CHOICEONE", "options": [{"text": "A"}, {"text": "B"}]},
        {"sn": 2, "text": "矩陣圖", "type": "NEST", "extras": {"child_sn": [3]}},
        {"sn": 3, "text": "服務態度", "type": "NESTCHILD"},
        {"sn": 4, "text": "重複核選題", "type": "PICKFROM", "optfrom": [1]},
    ],
}
ANSWERS = {
    "svid": "12345678",
    "title": "服務滿意度問卷",
    "status": "FINISH",
    "submitTime": "2022-02-16 08:30:20",
    "member_sn": "123321",
    "answers": [
        {"subject": "單行文字", "type": "TXTSHORT", "sn": 0, "answer": ["安安安"]},
        {
            "subject": "單選題",
            "type": "CHOICEONE",
            "sn": 1,
            "answer": ["A", "其他"],
            "otherAnswer": ["J"],
        },
        {"subject": "矩陣圖", "type": "NEST", "sn": 2},
    ],
}

CASES: list[Case] = [
    Case("audience", _members(3), ("member_sn",)),
    Case("audience", _members(1), ("member_sn",), mode="single"),
    Case(
        "audience",
        [{"source_id": "S1", "source_system": "CRM", "name": "Amy"}],
        ("source_id", "source_system"),
        options={"merge_key": "source_id"},
    ),
    Case(
        "purchase",
        _purchases(3),
        ("member_sn", "datetime", "transaction_id", "transaction_revenue"),
    ),
    Case("purchase", _purchases(1), ("member_sn", "transaction_id"), mode="single"),
    Case(
        "purchase",
        [{**_purchases(1)[0], "email": "a@example.com"} | {"member_sn": "x"}],
        ("email",),
        options={"identifier_field": "email"},
    ),
    Case(
        "gift_voucher",
        _vouchers(4),
        ("voucher_id", "member_sn", "voucher_type", "amount", "valid_from", "valid_util"),
    ),
    Case("gift_voucher", _vouchers(1), ("voucher_id", "amount"), mode="single"),
    Case("gift_voucher", _vouchers(3), ("valid_util",), mode="list"),
    Case("product", [PRODUCT], ("id", "title", "link", "availability", "image_link", "price")),
    Case(
        "event_registration",
        [REGISTRATION],
        ("event_id", "member_sn", "event_name", "registration_datetime", "event_start_datetime"),
    ),
    Case(
        "product_guarantee",
        [GUARANTEE],
        ("warranty_id", "member_sn", "product", "registration_datetime", "purchase_datetime"),
    ),
    Case("audience_mapping", [MAPPING], ("source_id", "source_system", "mapping_key", "phone")),
    Case(
        "blacklist",
        [{"member_sn": f"member_sn_{i}"} for i in range(3)],
        ("member_sn",),
        options={"search_key": "member_sn", "to_be_blacklisted": True},
    ),
    Case(
        "workflow_trigger",
        [{"member_sn": sn} for sn in ("123", "12345")],  # openapi.yaml's example
        ("member_sn",),
        options={"node_id": 128},
    ),
    Case(
        "event",
        [PURCHASE_EVENT],
        (
            "client_id",
            "hit_type",
            "data_source",
            "transaction_id",
            "transaction_revenue",
            "products",
            "event_category",
        ),
    ),
    Case("event", [VIEW_EVENT], ("client_id", "products")),
    Case("event", [CUSTOM_EVENT], ("event_action", "event_value")),
    Case("questionnaire", [QUESTIONNAIRE], ("svid", "title")),
    Case(
        "questionnaire_answers",
        [ANSWERS],
        ("svid", "title", "status", "submitTime", "member_sn"),
    ),
]
