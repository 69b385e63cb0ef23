"""One valid record per endpoint, from the OmniSegment reference pages' examples: the workload of
bench/record_check.py. Kept here, not taken from the tests, so the figures stay comparable from
one version to the next whatever the tests' cases become."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    endpoint: str
    record: dict[str, Any]
    required: str  # without this field the record is invalid
    options: dict[str, Any] = field(default_factory=dict)


MEMBER = {
    "member_sn": "M000",
    "name": "Eason Lee",
    "email": "eason0@example.com",
    "phone": "+886912345678",
    "sex": "male",
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
PURCHASE = {
    "member_sn": "1",
    "datetime": "2020-01-01T00:00:00+0800",
    "transaction_id": "T0000",
    "transaction_revenue": 5000.5,
    "transaction_status": "SUCCESS",
    "quantities": 2,
    "products": {"default": "P001", "CRM": "CRM-P001"},
    "products_name": "Product1,Product2",
    "products_quantity": "1,1",
    "shipping_address": {"address1": "123 Shipping Street", "address2": None, "zip": "40003"},
    "voucher": [{"voucher_name": "birthday_gift"}],
    "device": "IPHONE",
    "purchase_custom_text": "t" * 256,
    "purchase_custom_number": 1,
}
VOUCHER = {
    "voucher_id": "V000",
    "member_sn": "AAAAAA",
    "voucher_type": "birthday_gift",
    "amount": 999,
    "valid_from": "2024-05-01",
    "valid_util": "2025-03-03",
    "is_redeemed": False,
    "category": "coupon",
    "custom_fields": {"voucher_custom_text": "x" * 128, "voucher_custom_number": 1},
}
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

EXAMPLES: list[Example] = [
    Example("audience", MEMBER, "member_sn"),
    Example("purchase", PURCHASE, "member_sn"),
    Example("gift_voucher", VOUCHER, "voucher_id"),
    Example("product", PRODUCT, "id"),
    Example("event_registration", REGISTRATION, "event_id"),
    Example("product_guarantee", GUARANTEE, "warranty_id"),
    Example("audience_mapping", MAPPING, "source_id"),
    Example(
        "blacklist",
        {"member_sn": "member_sn_0"},
        "member_sn",
        options={"search_key": "member_sn", "to_be_blacklisted": True},
    ),
    Example("event", PURCHASE_EVENT, "client_id"),
    Example("questionnaire", QUESTIONNAIRE, "svid"),
    Example("questionnaire_answers", ANSWERS, "svid"),
]
