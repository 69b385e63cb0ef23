"""Every endpoint, table-driven: valid records arrive exactly; a record missing a required field is
rejected locally, naming the field, and nothing of it reaches the sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningSandbox
from tests.integration.delivery import block, deliver
from tests.integration.endpoint_cases import CASES, Case


def stored_form(case: Case, record: dict[str, Any]) -> tuple[str, Any]:
    """(sandbox key, what the sandbox keeps) for a record sent by the client."""
    if case.endpoint == "blacklist":
        (value,) = record.values()
        return value, case.options
    if case.endpoint == "workflow_trigger":
        return f"{case.options['node_id']}:{record['member_sn']}", {
            "node_id": case.options["node_id"]
        }
    if case.endpoint == "event":
        kind = record.get("event_action") or record["hit_type"]
        return f"{kind}:{record.get('transaction_id') or record['client_id']}", {
            **record,
            "version": "2.0.4",
        }
    if case.endpoint == "audience_mapping":
        return f"{record['source_system']}:{record['source_id']}", record
    if case.endpoint == "questionnaire_answers":
        return f"{record['svid']}:{record['member_sn']}", record
    key_field = {
        "audience": case.options.get("merge_key", "member_sn"),
        "purchase": "transaction_id",
        "gift_voucher": "voucher_id",
        "product": "id",
        "event_registration": "event_id",
        "product_guarantee": "warranty_id",
        "questionnaire": "svid",
    }[case.endpoint]
    value = record[key_field]
    if case.endpoint == "audience" and key_field == "source_id":
        value = f"{record['source_system']}:{record['source_id']}"
    return (value if isinstance(value, str) else str(sorted(value.items()))), record


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_valid_records_arrive_exactly(case: Case, sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Every record is delivered and the sandbox keeps it exactly as the client built it."""
    destination = block(case.endpoint, case.options, case.mode)
    stats, rejects = asyncio.run(deliver(sandbox.url, destination, case.records, tmp_path / "r"))

    assert rejects == []
    assert stats.delivered == len(case.records)
    expected = dict(stored_form(case, record) for record in case.records)
    assert sandbox.records(case.endpoint) == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_missing_required_field_is_rejected_locally(
    case: Case, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Without any one required field, the record goes to the reject file naming the field."""
    destination = block(case.endpoint, case.options, case.mode)
    record = case.records[0]
    for i, name in enumerate(case.required):
        broken = {key: value for key, value in record.items() if key != name}
        reject_path = tmp_path / f"rejects-{i}.jsonl"
        stats, rejects = asyncio.run(deliver(sandbox.url, destination, [broken], reject_path))

        assert stats.delivered == 0, name
        assert len(rejects) == 1, name
        assert name in (rejects[0]["field"] or "") + rejects[0]["reason"], rejects[0]
        assert rejects[0]["position"] == "memory:1"
    assert sandbox.records(case.endpoint) == {}
    assert sandbox.stats()["requests"] == {}


def test_personal_fields_are_masked_unless_revealed(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A rejected purchase shows its shipping address and email masked, or in clear on request."""
    record = {
        "email": "alice@example.com",
        "datetime": "2020-01-01T00:00:00+0800",
        "transaction_id": "T1",
        "transaction_revenue": "5000",  # a string: refused, the record goes to the reject file
        "shipping_address": {"address1": "123 Shipping Street"},
    }
    destination = block("purchase", {"identifier_field": "email"}, None)
    _stats, masked = asyncio.run(deliver(sandbox.url, destination, [record], tmp_path / "a"))
    _stats, clear = asyncio.run(
        deliver(sandbox.url, destination, [record], tmp_path / "b", reveal=True)
    )

    assert masked[0]["field"] == "transaction_revenue"
    assert masked[0]["key"] == "T1"
    assert masked[0]["record"]["email"] == "a***@example.com"
    assert "Shipping" not in str(masked[0]["record"]["shipping_address"])
    assert clear[0]["record"] == record
