"""Whatever the client's record check accepts, the sandbox accepts (through the real HTTP path).

Records are generated from each endpoint's effective JSON Schema; the sandbox's checks are written
independently from the reference pages, so a gap between the two fails here."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, note, settings

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.destination import route_for
from connectors.omnisegment.endpoint import OmniSegmentEndpoint
from tests.conftest import TEST_API_KEY, TEST_TID, RunningSandbox
from tests.integration.schema_strategy import Builder

SETUPS: list[tuple[str, dict[str, Any], str | None]] = [
    ("audience", {}, None),
    ("audience", {"merge_key": "source_id"}, "single"),
    ("purchase", {}, None),
    ("purchase", {"identifier_field": "phone"}, "single"),
    ("purchase", {"is_anonymous": True}, None),
    ("gift_voucher", {}, None),
    ("gift_voucher", {}, "single"),
    ("gift_voucher", {}, "list"),
    ("product", {}, None),
    ("event_registration", {}, None),
    ("product_guarantee", {}, None),
    ("audience_mapping", {}, None),
    ("blacklist", {"search_key": "email", "to_be_blacklisted": False}, None),
    ("workflow_trigger", {"node_id": 7}, None),
    ("event", {}, None),
    ("questionnaire", {}, None),
    ("questionnaire_answers", {}, None),
]


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


@pytest.mark.parametrize(
    ("name", "options", "mode"),
    SETUPS,
    ids=[f"{s[0]}-{s[2] or ''}{'-'.join(s[1])}" for s in SETUPS],
)
def test_what_the_client_accepts_the_sandbox_accepts(
    name: str, options: dict[str, Any], mode: str | None, sandbox: RunningSandbox
) -> None:
    """Generated records: a locally accepted one is answered 200 by the sandbox."""
    definition = CATALOGUE[name]
    route = route_for(definition, {"endpoint": name, "options": options, "mode": mode})
    endpoint = OmniSegmentEndpoint(definition, route, sandbox.url, TEST_TID, TEST_API_KEY, options)
    records = Builder(endpoint._validator.schema).build(endpoint._validator.schema)

    sent: list[bytes] = []

    @settings(
        max_examples=50,
        deadline=None,
        derandomize=True,  # the same records on every run: CI stays reproducible
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(record=records)
    def accepted_locally_means_accepted(record: dict[str, Any]) -> None:
        problem = endpoint.check(record)
        event("accepted locally" if problem is None else "rejected locally")
        if problem is not None:
            return
        request = endpoint.build_request([record])
        note(request.body.decode())
        status, body = post(request.url, request.body, dict(request.headers))
        assert status == 200, body.decode()
        assert orjson.loads(body)["SUCCESS"] is True
        sent.append(request.body)

    accepted_locally_means_accepted()
    assert sent, "no generated record passed the local check: the generator is broken"
