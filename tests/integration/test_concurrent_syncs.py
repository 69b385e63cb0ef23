"""Syncs of one run on different rate budgets run at the same time; depends_on orders the rest;
reports, reject files and state stay per sync. Observed through the order in which the sandbox
accepted records, never through time."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from engine.errors import ExitCode
from engine.plugins import load_registry
from engine.run.resume import open_store, sync_key
from engine.run.runner import RunOptions, run_spec
from engine.specfile import load_spec
from tests.conftest import RunningSandbox
from tests.sandbox_specs import sandbox_spec

SPEC = sandbox_spec(
    """\
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 20/s, concurrency: 2}
    mapping: {member_sn: id, name: name}
  - name: orders
    source: {csv: {path: orders.csv}}
    destination: {endpoint: purchase, options: {is_anonymous: false}}
    delivery: {rate_limit: 20/s, concurrency: 2}
    mapping:
      transaction_id: order_id
      member_sn: member
      datetime: {const: "2024-07-15T09:51:23+08:00"}
      transaction_status: {const: SUCCESS}
      products: {const: P001}
      transaction_revenue: {const: 100}
  - name: vouchers
    depends_on: [members]
    source: {csv: {path: vouchers.csv}}
    destination: {endpoint: gift_voucher}
    delivery: {rate_limit: 20/s}
    mapping:
      voucher_id: voucher_id
      member_sn: member
      voucher_type: {const: welcome}
      valid_from: {const: "2024-05-01"}
      valid_util: {const: "2025-05-01"}
      amount: {const: 100}
      is_redeemed: {const: false}
  - name: order_notes
    depends_on: [orders]
    source: {csv: {path: vouchers.csv}}
    destination: {endpoint: gift_voucher}
    delivery: {rate_limit: 20/s}
    mapping:
      voucher_id: {template: "N{voucher_id}"}
      member_sn: member
      voucher_type: {const: note}
      valid_from: {const: "2024-05-01"}
      valid_util: {const: "2025-05-01"}
      amount: {const: 1}
      is_redeemed: {const: false}
"""
)


def write_inputs(directory: Path, rows: int) -> Path:
    with (directory / "members.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        writer.writerows((f"M{i:06d}", f"member {i}") for i in range(rows))
    with (directory / "orders.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "member"])
        writer.writerows((f"T{i:06d}", f"M{i:06d}") for i in range(rows))
    with (directory / "vouchers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["voucher_id", "member"])
        writer.writerows((f"V{i:06d}", f"M{i:06d}") for i in range(rows // 2))
    spec = directory / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def accepted_order(sandbox: RunningSandbox) -> list[tuple[str, str]]:
    order: list[tuple[str, str]] = sandbox.call(lambda: list(sandbox.sandbox.state.order))
    return order


def reject_keys(path: Path) -> list[str]:
    return [json.loads(line)["key"] for line in path.read_text().splitlines()]


async def test_syncs_on_different_endpoints_overlap_and_depends_on_waits(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    sandbox.configure(reject_keys="^(M000013|T000027)$")  # one server-side reject in each
    spec = load_spec(write_inputs(tmp_path, 400), environ=sandbox_env)

    result = await run_spec(spec, RunOptions())

    by_name = {stats.sync: stats for stats in result.syncs}
    assert [by_name[n].delivered for n in ("members", "orders", "vouchers", "order_notes")] == [
        399,
        399,
        200,
        200,
    ]
    assert by_name["members"].rejected == by_name["orders"].rejected == 1
    order = accepted_order(sandbox)
    audience = [i for i, (endpoint, _) in enumerate(order) if endpoint == "audience"]
    purchase = [i for i, (endpoint, _) in enumerate(order) if endpoint == "purchase"]
    # members and orders ran at the same time: some orders landed before the last member
    assert purchase[0] < audience[-1]
    assert audience[0] < purchase[-1]
    # vouchers waited for members
    vouchers = [i for i, (_, key) in enumerate(order) if key.startswith("V")]
    notes = [i for i, (_, key) in enumerate(order) if key.startswith("NV")]
    assert min(vouchers) > audience[-1]
    assert min(notes) > purchase[-1]
    # each reject file holds its own sync's rejects only
    rejects = tmp_path / ".omnisync"
    assert reject_keys(rejects / "rejects-members.jsonl") == ["M000013"]
    assert reject_keys(rejects / "rejects-orders.jsonl") == ["T000027"]
    assert not (rejects / "rejects-vouchers.jsonl").exists() or not reject_keys(
        rejects / "rejects-vouchers.jsonl"
    )


async def test_a_failed_sync_keeps_its_own_state_and_skips_its_dependants_only(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """orders stops (its reject breaker); members and vouchers finish; order_notes is skipped
    with the reason; the state store holds orders' position in orders.csv and nothing of
    members."""
    sandbox.configure(reject_keys="^T0002[0-9][0-9]$")  # orders 200..299 refused by the server
    spec = load_spec(write_inputs(tmp_path, 400), environ=sandbox_env)

    result = await run_spec(spec, RunOptions())

    assert result.exit_code == ExitCode.DELIVERY_FAILED
    by_name = {stats.sync: stats for stats in result.syncs}
    assert by_name["members"].delivered == 400
    assert by_name["vouchers"].delivered == 200
    assert by_name["orders"].stopped is not None
    assert "rejected requests in a row" in by_name["orders"].stopped
    skipped = by_name["order_notes"]
    assert skipped.read == 0
    assert skipped.stopped is not None
    assert "orders" in skipped.stopped
    assert "skipped" in skipped.stopped
    assert not any(key.startswith("NV") for _, key in accepted_order(sandbox))
    # orders' rejects in its own file, none in the members' file
    rejects = tmp_path / ".omnisync"
    assert all(key.startswith("T0002") for key in reject_keys(rejects / "rejects-orders.jsonl"))
    members_rejects = rejects / "rejects-members.jsonl"
    assert not members_rejects.exists() or reject_keys(members_rejects) == []
    store = open_store(spec, load_registry())
    try:
        orders_mark = store.load(sync_key(spec, "orders"))
        assert orders_mark is not None
        assert "orders.csv" in str(orders_mark.position)
        assert store.load(sync_key(spec, "members")) is None  # clean: cleared, not overwritten
    finally:
        store.close()


SHARED = sandbox_spec(
    """\
  - name: shop
    source: {csv: {path: shop.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 20/s, concurrency: 8}
    mapping: {member_sn: id, name: name}
  - name: crm
    source: {csv: {path: crm.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 20/s, concurrency: 1}
    mapping: {member_sn: id, name: name}
"""
)


async def test_syncs_sharing_a_budget_take_turns_whatever_their_concurrency(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """Same endpoint and account: one limiter, and the requests alternate between the syncs."""
    for name, prefix in (("shop", "S"), ("crm", "C")):
        with (tmp_path / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name"])
            writer.writerows((f"{prefix}{i:06d}", f"member {i}") for i in range(1000))
    spec_file = tmp_path / "sync.yaml"
    spec_file.write_text(SHARED, encoding="utf-8")
    spec = load_spec(spec_file, environ=sandbox_env)

    result = await run_spec(spec, RunOptions())

    assert [stats.delivered for stats in result.syncs] == [1000, 1000]
    batches = [key[0] for _, key in accepted_order(sandbox)[::50]]  # one entry per request
    # after the first burst (a quarter of the window may leave at once, and crm has only one
    # request to offer), the turns alternate while both syncs have work
    steady = batches[6:26]
    assert abs(steady.count("S") - steady.count("C")) <= 4, batches  # FIFO would give ~18:2
