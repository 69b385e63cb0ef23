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
    ),
    "blacklist": Starter(
        "blacklist",
        ("email",),
        (("Spam.Complainer@Example.com",), ("no-mail@example.com",)),
        "{endpoint: blacklist, options: {search_key: email, to_be_blacklisted: true}}",
        """\
      email: {from: email, transforms: [trim, lower]}
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
    ),
    "questionnaire": Starter(
        "surveys",
        ("survey_id", "survey_title", "question", "choice_1", "choice_2"),
        (
            ("1001", "服務滿意度問卷", "整體滿意度", "滿意", "不滿意"),
            ("1002", "Event feedback", "Would you come again?", "Yes", "No"),
        ),
        "{endpoint: questionnaire}",
        """\
      svid: survey_id                                 # the questionnaire's id, as text
      title: {from: survey_title, transforms: [trim]}
      questions:                                      # one question per row here; add items
        list:
          - sn: {const: 0}
            text: question
            type: {const: CHOICEONE}                  # TXTSHORT, CHOICEMULTI, RATINGBAR, ...
            options:                                  # the choices, one {text: ...} each
              list:
                - {text: choice_1}
                - {text: choice_2}
""",
    ),
    "questionnaire_answers": Starter(
        "survey_answers",
        ("survey_id", "survey_title", "member", "submitted_at", "answer"),
        (
            ("1001", "服務滿意度問卷", "M0001", "2024-05-01 10:30:00", "滿意"),
            ("1001", "服務滿意度問卷", "M0002", "2024-05-02 18:05:00", "普通"),
        ),
        "{endpoint: questionnaire_answers}",
        """\
      svid: survey_id
      title: survey_title
      status: {const: FINISH}                         # FINISH unless something special happened
      submitTime: {from: submitted_at, transforms: [{datetime: {input: ["%Y-%m-%d %H:%M:%S"]}}]}
      member_sn: member
      answers:
        list:
          - subject: {const: 整體滿意度}                 # the question's text, as in the questionnaire
            type: {const: CHOICEONE}
            sn: {const: 0}
            answer: {from: answer, transforms: [{split: ";"}]}
""",
    ),
}
