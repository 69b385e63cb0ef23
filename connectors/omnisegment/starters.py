"""Starting points for `omnisync init`: per endpoint, sample rows and the mapping that sends them.

Each starter is valid as written against the sandbox; the mapping's comments say what to change.
Values that must be JSON numbers or booleans go through `cast`, dates through `datetime` (a naive
SQL or CSV time gets the account's offset only when the transform is told so)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Starter:
    """A sync's sample data (columns and rows, all text) and its destination and mapping YAML."""

    sync: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    destination: str  # the YAML flow mapping after `destination:`
    mapping: str  # YAML lines under `mapping:`, indented by 6
    expect: str  # the record the first sample row becomes (YAML flow): the spec's mapping test
    extra: str = ""  # sync lines after the destination (indented by 4), e.g. an event's once_per


STARTERS: dict[str, Starter] = {
    "audience": Starter(
        "members",
        ("id", "name", "email", "mobile", "newsletter", "joined_at"),
        (
            ("M0001", "王小明", "Ming@Example.com", "0912-345-678", "yes", "2024-05-01 09:30:00"),
            ("M0002", "Lin Yu", "yu.lin@example.com", "0922 111 222", "no", "2024-05-02 18:00:00"),
        ),
        "{endpoint: audience, options: {merge_key: member_sn, tag_mode: append}}",
        """\
      member_sn: id                                   # the key OmniSegment upserts by
      name: name
      email: {from: email, transforms: [trim, lower, email]}
      phone: {from: mobile, transforms: [{phone: {region: TW}}]}   # E.164: +886912345678
      is_subscriber: {from: newsletter, transforms: [{cast: bool}]}
      register_date: {from: joined_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
""",
        '{member_sn: M0001, name: 王小明, email: ming@example.com, phone: "+886912345678", '
        'is_subscriber: true, register_date: "2024-05-01T09:30:00+08:00"}',
    ),
    "purchase": Starter(
        "purchases",
        ("order_id", "member", "ordered_at", "status", "products", "revenue"),
        (
            ("T0001", "M0001", "2024-07-15 09:51:23", "SUCCESS", "P001,P002", "1280.50"),
            ("T0002", "M0002", "2024-07-16 10:00:00", "PAID", "P003", "399"),
        ),
        "{endpoint: purchase, options: {is_anonymous: false}}",
        """\
      transaction_id: order_id                        # the key OmniSegment upserts by
      member_sn: member
      datetime: {from: ordered_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      transaction_status: status
      products: products                              # product ids, comma-separated
      transaction_revenue: {from: revenue, transforms: [{cast: float}]}   # a JSON number
""",
        '{transaction_id: T0001, member_sn: M0001, datetime: "2024-07-15T09:51:23+08:00", '
        'transaction_status: SUCCESS, products: "P001,P002", transaction_revenue: 1280.5}',
    ),
    "gift_voucher": Starter(
        "vouchers",
        ("voucher_id", "member", "type", "valid_from", "valid_until", "amount"),
        (
            ("V001", "M0001", "birthday_gift", "2024-05-01", "2025-05-01", "100"),
            ("V002", "M0002", "welcome", "2024-05-01", "2024-12-31", "50"),
        ),
        "{endpoint: gift_voucher}",
        """\
      voucher_id: voucher_id
      member_sn: member
      voucher_type: type
      valid_from: valid_from
      valid_util: valid_until                         # the API's key is valid_util
      amount: {from: amount, transforms: [{cast: int}]}   # a JSON integer
""",
        "{voucher_id: V001, member_sn: M0001, voucher_type: birthday_gift, "
        'valid_from: "2024-05-01", valid_util: "2025-05-01", amount: 100}',
    ),
    "product": Starter(
        "products",
        ("sku", "title", "url", "image", "price", "availability"),
        (
            (
                "P001",
                "一件普通衣服",
                "https://shop.example.com/p/P001",
                "https://shop.example.com/img/P001.png",
                "999 TWD",
                "in stock",
            ),
            (
                "P002",
                "Socks",
                "https://shop.example.com/p/P002",
                "https://shop.example.com/img/P002.png",
                "99 TWD",
                "out of stock",
            ),
        ),
        "{endpoint: product}",
        """\
      id: sku
      title: title
      link: url
      image_link: image
      price: price                                    # amount and ISO currency: 999 TWD
      availability: availability                      # in stock, out of stock, preorder, ...
""",
        "{id: P001, title: 一件普通衣服, link: https://shop.example.com/p/P001, "
        "image_link: https://shop.example.com/img/P001.png, price: 999 TWD, "
        "availability: in stock}",
    ),
    "event_registration": Starter(
        "registrations",
        ("event_id", "member", "event_name", "registered_at"),
        (
            ("E001", "M0001", "buy1get1", "2024-08-17 12:00:00"),
            ("E001", "M0002", "buy1get1", "2024-08-18 09:15:00"),
        ),
        "{endpoint: event_registration}",
        """\
      event_id: event_id
      member_sn: member
      event_name: event_name
      registration_datetime: {from: registered_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      is_available: {const: true}
""",
        "{event_id: E001, member_sn: M0001, event_name: buy1get1, "
        'registration_datetime: "2024-08-17T12:00:00+08:00", is_available: true}',
    ),
    "product_guarantee": Starter(
        "warranties",
        ("warranty_id", "member", "item_group", "registered_at", "purchased_at"),
        (
            ("W001", "M0001", "G-100", "2024-08-17 12:00:00", "2024-08-10 15:00:00"),
            ("W002", "M0002", "G-200", "2024-08-18 12:00:00", "2024-08-11 15:00:00"),
        ),
        "{endpoint: product_guarantee}",
        """\
      warranty_id: warranty_id
      member_sn: member
      registration_datetime: {from: registered_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      purchase_datetime: {from: purchased_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      product: {object: {default: item_group}}        # {default: <item group id>}
""",
        '{warranty_id: W001, member_sn: M0001, registration_datetime: "2024-08-17T12:00:00+08:00", '
        'purchase_datetime: "2024-08-10T15:00:00+08:00", product: {default: G-100}}',
    ),
    "audience_mapping": Starter(
        "crm_mapping",
        ("crm_id", "mobile"),
        (("C-1", "0912-345-678"), ("C-2", "0922-111-222")),
        "{endpoint: audience_mapping}",
        """\
      source_id: crm_id
      source_system: {const: CRM}
      mapping_key: {const: phone}                     # which identifier below finds the member
      phone: {from: mobile, transforms: [{phone: {region: TW}}]}
""",
        '{source_id: C-1, source_system: CRM, mapping_key: phone, phone: "+886912345678"}',
    ),
    "blacklist": Starter(
        "blacklist",
        ("email",),
        (("Spam.Complainer@Example.com",), ("no-mail@example.com",)),
        "{endpoint: blacklist, options: {search_key: email, to_be_blacklisted: true}}",
        """\
      email: {from: email, transforms: [trim, lower]}
""",
        "{email: spam.complainer@example.com}",
    ),
    "workflow_trigger": Starter(
        "win_back",
        ("member_id", "lapsed_on"),
        (("M0001", "2026-05-01"), ("M0002", "2026-05-01")),
        "{endpoint: workflow_trigger, options: {node_id: 128}}   # the node: from the workflow",
        """\
      member_sn: member_id                            # only the member's number travels
""",
        "{member_sn: M0001}",
        extra="""\
    once_per: 1d                        # each member enters the node at most once a day: a
                                        # trigger sent twice sends the customer two messages
""",
    ),
    "event": Starter(
        "store_visits",
        ("device", "member", "action", "value"),
        (
            ("store-kiosk-1", "M0001", "StoreVisit", '{"store": "Taipei 101"}'),
            ("store-kiosk-2", "M0002", "StoreVisit", '{"store": "Xinyi A11"}'),
        ),
        '{endpoint: event, options: {version: "2.0.4"}}',
        """\
      client_id: device
      uid: member
      event_action: action
      event_value: value
      hit_type: {const: event}
      data_source: {const: app}
""",
        "{client_id: store-kiosk-1, uid: M0001, event_action: StoreVisit, "
        'event_value: \'{"store": "Taipei 101"}\', hit_type: event, data_source: app}',
    ),
    "questionnaire": Starter(
        "surveys",
        ("survey_id", "title", "question_1", "question_2"),
        (
            ("S001", "服務滿意度問卷", "您的建議", "整體滿意度"),
            ("S002", "Event feedback", "What did you like?", "Anything else?"),
        ),
        "{endpoint: questionnaire}",
        """\
      svid: survey_id                                 # the key OmniSegment upserts by
      title: title
      questions:                                      # sn orders them; types: docs/endpoints.md
        list:
          - {sn: {const: 0}, text: question_1, type: {const: TXTSHORT}}
          - {sn: {const: 1}, text: question_2, type: {const: TXTLONG}}
""",
        "{svid: S001, title: 服務滿意度問卷, questions: [{sn: 0, text: 您的建議, type: TXTSHORT}, "
        "{sn: 1, text: 整體滿意度, type: TXTLONG}]}",
    ),
    "questionnaire_answers": Starter(
        "survey_answers",
        ("survey_id", "title", "member", "submitted_at", "suggestion", "rating"),
        (
            ("S001", "服務滿意度問卷", "M0001", "2024-05-01 09:30:00", "很好", "滿意"),
            ("S001", "服務滿意度問卷", "M0002", "2024-05-02 18:00:00", "", "普通"),
        ),
        "{endpoint: questionnaire_answers}",
        """\
      svid: survey_id                                 # the key is svid with member_sn
      title: title
      member_sn: member
      status: {const: FINISH}                         # FINISH unless something special happened
      submitTime: {from: submitted_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      answers:                                        # one object per question; sn as asked
        list:
          - sn: {const: 0}
            subject: {const: 您的建議}
            type: {const: TXTSHORT}
            answer: {from: suggestion, transforms: [{split: ";"}]}   # a list of texts
          - sn: {const: 1}
            subject: {const: 整體滿意度}
            type: {const: CHOICEONE}
            answer: {from: rating, transforms: [{split: ";"}]}
""",
        "{svid: S001, title: 服務滿意度問卷, member_sn: M0001, status: FINISH, "
        'submitTime: "2024-05-01T09:30:00+08:00", answers: [{sn: 0, subject: 您的建議, '
        "type: TXTSHORT, answer: [很好]}, {sn: 1, subject: 整體滿意度, type: CHOICEONE, "
        "answer: [滿意]}]}",
    ),
}
