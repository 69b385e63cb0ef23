"""A spec of two syncs for the API and orchestrator tests: `members` (audience, one row of three
rejected for its email) and `vouchers` (gift vouchers), which depends on members."""

from __future__ import annotations

from pathlib import Path

from tests.sandbox_specs import sandbox_spec

SPEC = sandbox_spec(
    """\
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    max_reject_ratio: 0.5
    mapping: {member_sn: id, name: name, email: email}
  - name: vouchers
    depends_on: [members]
    source: {csv: {path: vouchers.csv}}
    destination: {endpoint: gift_voucher}
    mapping:
      voucher_id: voucher_id
      member_sn: member
      voucher_type: {const: welcome}
      valid_from: {const: "2024-05-01"}
      valid_util: {const: "2025-05-01"}
      amount: {const: 100}
      is_redeemed: {const: false}
"""
)
MEMBERS = "id,name,email\nM1,Ann,ann@example.com\nM2,Bo,not-an-email\nM3,Cy,cy@example.com\n"
VOUCHERS = "voucher_id,member\nV1,M1\nV2,M3\n"


def write_two_syncs(directory: Path, members: str = MEMBERS) -> Path:
    """sync.yaml, members.csv and vouchers.csv in `directory`; the spec's path."""
    (directory / "members.csv").write_text(members, encoding="utf-8")
    (directory / "vouchers.csv").write_text(VOUCHERS, encoding="utf-8")
    spec = directory / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec
