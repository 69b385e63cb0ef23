"""Spec checks of a sync's OmniSegment destination: options, routes and mapped required fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.destination import OmniSegmentDestination
from connectors.omnisegment.endpoint_def import EndpointDef, Route
from connectors.omnisegment.hosts import override_issues
from tests.conftest import invoke_cli


def messages(block: dict[str, object], mapped: set[str]) -> list[str]:
    destination = OmniSegmentDestination({"environment": "sandbox"})
    issues = destination.check_sync(block, frozenset(mapped))
    return [f"{'.'.join(map(str, issue.path))}: {issue.message}" for issue in issues]


INVALID = [
    (
        "merge_key-source_id-without-source_system",
        {"endpoint": "audience", "options": {"merge_key": "source_id"}},
        {"source_id", "name"},
        "options.merge_key: merge_key source_id needs source_id and source_system in the mapping "
        "(source_system not mapped)",
    ),
    (
        "merge_key-source_id-on-batch",
        {"endpoint": "audience", "mode": "batch", "options": {"merge_key": "source_id"}},
        {"source_id", "source_system"},
        "options.merge_key: merge_key: 'source_id' is only accepted by the single route "
        "(/ma_audience/import-audience/); set mode: single or leave mode out",
    ),
    (
        "bad-identifier_field",
        {"endpoint": "purchase", "options": {"identifier_field": "mobile"}},
        {"member_sn", "datetime", "transaction_id", "transaction_revenue"},
        "options.identifier_field: 'mobile' is not one of 'line_id', 'phone', 'email', 'messenger_psid'",
    ),
    (
        "unknown-option",
        {"endpoint": "gift_voucher", "options": {"merge_key": "member_sn"}},
        {"voucher_id", "member_sn", "voucher_type", "amount", "valid_from", "valid_util"},
        "options.merge_key: 'merge_key' is not an option of gift_voucher; known: identifier_field, site",
    ),
    (
        "unmapped-required-field",
        {"endpoint": "purchase"},
        {"member_sn", "datetime", "transaction_id"},
        "endpoint: purchase requires 'transaction_revenue': map it (it is not in the mapping)",
    ),
    (
        "identifier_field-not-mapped",
        {"endpoint": "purchase", "options": {"identifier_field": "email"}},
        {"member_sn", "datetime", "transaction_id", "transaction_revenue"},
        "endpoint: purchase requires email or source_id with source_system in the mapping "
        "(identifier_field is email)",
    ),
    (
        "blacklist-needs-its-options",
        {"endpoint": "blacklist", "options": {"search_key": "email"}},
        {"email"},
        "options: blacklist needs the option 'to_be_blacklisted'",
    ),
    (
        "no-such-route",
        {"endpoint": "product", "mode": "batch"},
        {"id", "title", "link", "availability", "image_link", "price"},
        "mode: product has no batch route; it has: single",
    ),
    (
        "debug_mode-only-single",
        {"endpoint": "purchase", "mode": "batch", "options": {"debug_mode": 1}},
        {"member_sn", "datetime", "transaction_id", "transaction_revenue"},
        "options.debug_mode: 'debug_mode' is only accepted by the single route "
        "(/api/import-purchase-data/); set mode: single or leave mode out",
    ),
    (
        "unknown-field-of-a-closed-record",
        {"endpoint": "audience_mapping"},
        {"source_id", "source_system", "mapping_key", "phone", "mobile"},
        "mapping.mobile: 'mobile' is not a field of audience_mapping",
    ),
]


@pytest.mark.parametrize(
    ("block", "mapped", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_destination_blocks(
    block: dict[str, object], mapped: set[str], expected: str
) -> None:
    """Each invalid block yields exactly the expected message, with its path."""
    assert messages(block, mapped) == [expected]


def test_a_valid_block_has_no_issue() -> None:
    """merge_key source_id with both fields mapped, and no mode, picks the single route quietly."""
    block = {"endpoint": "audience", "options": {"merge_key": "source_id", "tag_mode": "replace"}}
    assert messages(block, {"source_id", "source_system"}) == []


SPEC = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: orders
    source: {csv: {path: orders.csv}}
    destination:
      endpoint: purchase
      options: {identifier_field: mobile, colour: blue}
    mapping:
      member_sn: id
      datetime: at
"""


def test_validate_exits_2_naming_file_line_and_problem(tmp_path: Path) -> None:
    """`omnisync validate` reports every destination problem at its line and exits 2."""
    spec = tmp_path / "orders.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    result = invoke_cli("validate", str(spec))

    assert result.returncode == 2
    assert "orders.yaml:8" in result.stderr
    assert "'colour' is not an option of purchase" in result.stderr
    spec.write_text(SPEC.replace(", colour: blue", ""), encoding="utf-8")
    result = invoke_cli("validate", str(spec))
    assert result.returncode == 2
    assert "'mobile' is not one of 'line_id', 'phone', 'email', 'messenger_psid'" in result.stderr
    assert "purchase requires 'transaction_id': map it" in result.stderr
    assert "purchase requires 'transaction_revenue': map it" in result.stderr


def test_the_override_refusal_names_the_catalogues_unsure_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The endpoints a sync may re-route come from the catalogue, so a new one is named too."""
    unsure = Route("/api/v1/loyalty/import/", "header", 1, data_key=None, unsure=True)
    added = EndpointDef("loyalty_card", "loyalty_card.json", ("card_id",), {"single": unsure})
    monkeypatch.setitem(CATALOGUE, "loyalty_card", added)

    (issue,) = override_issues("audience", CATALOGUE["audience"].routes["single"], {"path": "/x/"})

    assert issue.message.endswith(
        "(only routes the pages disagree on can: loyalty_card, questionnaire, questionnaire_answers)"
    )
