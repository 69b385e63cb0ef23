"""The OmniSegment import endpoints as the reference in shared/omnisegment-api describes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Auth = Literal["body", "header"]

ENVIRONMENTS: dict[str, tuple[str | None, str]] = {
    # name: (documented base URL, account's UTC offset for naive datetimes)
    "tw": ("https://api.omnisegment.com", "+08:00"),
    "jp": (None, "+09:00"),  # no host is documented for jp: base_url is required
    "staging": (None, "+08:00"),  # nor for staging
    "sandbox": (None, "+08:00"),  # started in-process on 127.0.0.1
}


@dataclass(frozen=True)
class Route:
    """One URL of an endpoint: how records travel in its body."""

    path: str
    auth: Auth
    cap: int  # records per request; 1 for single-record routes
    data_key: str = "data"  # body key holding the record(s)


@dataclass(frozen=True)
class EndpointDef:
    name: str
    schema: str  # file under schemas/
    key_fields: tuple[str, ...]  # the record key, for idempotency, order and reports
    single: Route | None
    batch: Route | None
    rate_limit: float = 10.0
    options: dict[str, Any] = field(default_factory=dict)  # JSON Schema properties of the envelope
    personal_fields: frozenset[str] = frozenset()


_AUDIENCE_PERSONAL = frozenset(
    {"name", "first_name", "last_name", "email", "phone", "address", "birthday", "line_id"}
)

_IGNORE_EMPTY = {
    "type": "boolean",
    "description": "true: '' and null keep the old value, 'none' clears it",
}

CATALOGUE: dict[str, EndpointDef] = {
    "audience": EndpointDef(
        name="audience",
        schema="audience.json",
        key_fields=("member_sn", "source_id"),
        single=Route("/ma_audience/import-audience/", "body", 1),
        batch=Route("/api/v2/audiences/batch-import/", "body", 50),
        options={
            "ignore_empty_value": _IGNORE_EMPTY,
            "merge_key": {
                "enum": ["member_sn", "line_id", "email", "phone", "messenger_psid", "source_id"]
            },
            "tag_mode": {"enum": ["append", "replace"]},
            "custom_fields_identifier_field": {
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
        },
        personal_fields=_AUDIENCE_PERSONAL,
    ),
}
