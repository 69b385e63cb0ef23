"""The OmniSegment import endpoints as the vendor's API pages describe them (docs/endpoints.md).

One `EndpointDef` per kind of record; each has one or more `Route`s (URLs) chosen by the sync's
`destination.mode`. Envelope options are JSON Schemas per route, because the pages differ per route
(e.g. `merge_key: source_id` and `debug_mode` exist only on single routes). docs/endpoints.md is the
table of all this, with the reference's ambiguities and what was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.omnisegment.endpoint_def import (
    IDENTIFIER_FIELDS,
    MEMBER_IDENTITY,
    SOURCE_PAIR,
    EndpointDef,
    Identity,
    Route,
)


def _options(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_IGNORE_EMPTY = {
    "type": "boolean",
    "description": "true: '' and null keep the old value, 'none' clears it",
}
_TAG_MODE = {"enum": ["append", "replace"]}
_IDENTIFIER_FIELD = {
    "enum": list(IDENTIFIER_FIELDS),
    "description": "member lookup field instead of member_sn",
}
_SITE = {"type": ["string", "null"], "description": "site of a multi-site organisation"}
_CUSTOM_IDENTIFIER = {
    "type": "object",
    "additionalProperties": {"type": "string", "minLength": 1},
    "description": "{json custom field: sub-field that identifies the item to update}",
}
_AUDIENCE_MERGE_KEYS = ["member_sn", "line_id", "email", "phone", "messenger_psid"]


def _questionnaire_route(path: str, *other_paths: str) -> Route:
    """Both questionnaire pages write their URL on https://omnisegment.com (no `api.`) and spell
    the header two ways; the answers page names two paths. Decisions: docs/endpoints.md."""
    return Route(
        path,
        "header",
        1,
        data_key=None,
        options=_options(),
        hosts={"tw": "https://omnisegment.com"},
        other_paths=other_paths,
        unsure=True,
    )


def audience_identity(options: Mapping[str, Any]) -> Identity:
    """member_sn, or source_id with source_system; merge_key X needs X instead (openapi.yaml's
    merge_key table and its ByEmail/ByPhone/ByLineId examples, which carry no member_sn)."""
    merge_key = options.get("merge_key", "member_sn")
    if merge_key == "source_id":
        return (SOURCE_PAIR,)
    if merge_key == "member_sn":
        return MEMBER_IDENTITY
    return ((str(merge_key),),)


def member_identity(options: Mapping[str, Any]) -> Identity:
    """Purchases and vouchers: identifier_field replaces member_sn; anonymous orders need none."""
    if options.get("is_anonymous") is True:
        return ()
    return ((str(options.get("identifier_field", "member_sn")),), SOURCE_PAIR)


def search_key_identity(options: Mapping[str, Any]) -> Identity:
    """Blacklist: each record must hold the field that search_key names."""
    return ((str(options.get("search_key", "member_sn")),),)


_AUDIENCE_PERSONAL = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "birthday",
        "line_id",
        "facebook_id",
        "google_id",
        "messenger_psid",
        "zip_code",
    }
)
_IDENTIFIER_PERSONAL = frozenset({"email", "phone", "line_id", "messenger_psid"})

CATALOGUE: dict[str, EndpointDef] = {
    "audience": EndpointDef(
        name="audience",
        schema="audience.json",
        key_fields=("member_sn", "source_id"),
        routes={
            "single": Route(
                "/ma_audience/import-audience/",
                "body",
                1,
                options=_options(
                    ignore_empty_value=_IGNORE_EMPTY,
                    merge_key={"enum": [*_AUDIENCE_MERGE_KEYS, "source_id"]},
                    tag_mode=_TAG_MODE,
                ),
            ),
            "batch": Route(
                "/api/v2/audiences/batch-import/",
                "body",
                50,
                as_list=True,
                options=_options(
                    ignore_empty_value=_IGNORE_EMPTY,
                    merge_key={"enum": _AUDIENCE_MERGE_KEYS},
                    tag_mode=_TAG_MODE,
                    custom_fields_identifier_field=_CUSTOM_IDENTIFIER,
                ),
            ),
        },
        identity=audience_identity,
        personal_fields=_AUDIENCE_PERSONAL,
        clears=True,
        doc="Import-Audience-API.md, Batch-Import-Audience-API.md",
    ),
    "purchase": EndpointDef(
        name="purchase",
        schema="purchase.json",
        key_fields=("transaction_id",),
        routes={
            "single": Route(
                "/api/import-purchase-data/",
                "body",
                1,
                options=_options(
                    is_anonymous={"type": "boolean"},
                    identifier_field=_IDENTIFIER_FIELD,
                    debug_mode={"enum": [0, 1, "0", "1"]},
                ),
            ),
            "batch": Route(
                "/api/v2/purchase/batch-import/",
                "body",
                50,
                as_list=True,
                options=_options(
                    is_anonymous={"type": "boolean"}, identifier_field=_IDENTIFIER_FIELD
                ),
            ),
        },
        identity=member_identity,
        personal_fields=_IDENTIFIER_PERSONAL | {"shipping_address"},
        doc="Import-Purchase-Data-API.md, Batch-Import-Purchase-Data-API.md",
    ),
    "gift_voucher": EndpointDef(
        name="gift_voucher",
        schema="gift_voucher.json",
        key_fields=("voucher_id",),
        routes={
            "single": Route(
                "/api/import-gift-voucher/",
                "body",
                1,
                rate_limit=30.0,
                options=_options(site=_SITE, identifier_field=_IDENTIFIER_FIELD),
            ),
            "list": Route(
                "/api/import-gift-voucher/",
                "body",
                100,
                as_list=True,
                options=_options(site=_SITE, identifier_field=_IDENTIFIER_FIELD),
            ),
            "batch": Route(
                "/api/v2/voucher/batch-import/",
                "body",
                100,
                data_key="data_list",
                as_list=True,
                options=_options(site=_SITE, identifier_field=_IDENTIFIER_FIELD),
            ),
        },
        identity=member_identity,
        personal_fields=_IDENTIFIER_PERSONAL,
        doc="Import-Gift-Voucher.md, Batch-Import-Gift-Voucher.md",
    ),
    "product": EndpointDef(
        name="product",
        schema="product.json",
        key_fields=("id",),
        routes={
            "single": Route("/api/v1/products/import/", "body", 1, options=_options(site=_SITE))
        },
        doc="Import-Product-API.md",
    ),
    "event_registration": EndpointDef(
        name="event_registration",
        schema="event_registration.json",
        key_fields=("event_id",),
        routes={
            "single": Route(
                "/api/v1/products/import-event-registration-data/", "body", 1, options=_options()
            )
        },
        personal_fields=frozenset({"delivery_address"}),
        doc="Import-Event-Registration-API.md",
    ),
    "product_guarantee": EndpointDef(
        name="product_guarantee",
        schema="product_guarantee.json",
        key_fields=("warranty_id",),
        routes={
            "single": Route(
                "/api/v1/products/import-product-guarantee-data/", "body", 1, options=_options()
            )
        },
        doc="Import-Product-Guarantee-API.md",
    ),
    "audience_mapping": EndpointDef(
        name="audience_mapping",
        schema="audience_mapping.json",
        key_fields=("source_system", "source_id"),
        routes={
            "single": Route(
                "/api/v1/audiences/audiences-mapping/",
                "header",
                1,
                data_key=None,
                options=_options(),
            )
        },
        personal_fields=frozenset({"phone", "email", "line_id"}),
        doc="Audience-Mapping-API.md",
    ),
    "blacklist": EndpointDef(
        name="blacklist",
        schema="blacklist.json",
        key_fields=(),  # the plain value itself
        routes={
            "batch": Route(
                "/api/v2/audiences/batch-import-blacklist/",
                "body",
                100,
                as_list=True,
                options=_options(
                    ("search_key", "to_be_blacklisted"),
                    search_key={
                        "enum": ["email", "phone", "line_id", "messenger_psid", "member_sn"]
                    },
                    to_be_blacklisted={"type": "boolean"},
                ),
            )
        },
        identity=search_key_identity,
        personal_fields=_IDENTIFIER_PERSONAL,
        plain_value_option="search_key",
        doc="Batch-Import-Blacklist-API.md",
    ),
    "workflow_trigger": EndpointDef(
        name="workflow_trigger",
        schema="workflow_trigger.json",
        key_fields=("member_sn",),
        routes={
            # no cap is documented: 100 keeps the members a lost answer leaves of unknown
            # outcome few, and a refused list cheap to bisect (docs/endpoints.md)
            "batch": Route(
                "/api/v1/workflow/trigger/",
                "body",
                100,
                data_key="member_sn_list",
                as_list=True,
                options=_options(
                    ("node_id",),
                    node_id={
                        "type": "integer",
                        "minimum": 1,
                        "description": "the workflow node to trigger (from the OmniSegment "
                        "platform's workflow configuration)",
                    },
                ),
            )
        },
        personal_fields=frozenset({"member_sn"}),
        plain_value_field="member_sn",
        event_option="node_id",
        doc="openapi.yaml",
    ),
    "event": EndpointDef(
        name="event",
        schema="event.json",
        key_fields=("transaction_id", "client_id"),
        routes={
            "single": Route(
                "/api/v1/beacon/track-event/",
                "beacon",
                1,
                data_key=None,
                options=_options(version={"type": "string", "minLength": 1}),
                defaults={"version": "2.0.4"},
            )
        },
        personal_fields=frozenset({"event_label"}),
        doc="Event-Tracking-API.md",
    ),
    "questionnaire": EndpointDef(
        name="questionnaire",
        schema="questionnaire.json",
        key_fields=("svid",),
        routes={"single": _questionnaire_route("/api/v1/questionnaire/import-questionnaire-data/")},
        doc="Import-Questionnaire-API.md",
    ),
    "questionnaire_answers": EndpointDef(
        name="questionnaire_answers",
        schema="questionnaire_answers.json",
        key_fields=("svid", "member_sn"),
        routes={
            "single": _questionnaire_route(
                "/api/v1/questionnaire/import-audience-answers/",
                "/api/v1/questionnaire/import-audience-questionnaire-data/",
            )
        },
        personal_fields=frozenset({"answers"}),
        joined_key=True,
        doc="Import-Audience-Questionnaire-Data.md",
    ),
}
