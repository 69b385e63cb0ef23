"""Dagster materializes a spec's syncs as assets, in-process and through Pipes, with the real
library: counts, reject file and run id as metadata, the reject-ratio check, a failed run failing
the step with its reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

dg = pytest.importorskip("dagster")
# Dagster's own Pipes client still reads the run id the way Dagster deprecated (1.13) and calls
# its own preview functions: warnings about Dagster's code, not ours
pytestmark = [
    pytest.mark.filterwarnings("ignore:AssetExecutionContext.run_id is deprecated"),
    pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.PreviewWarning"),
    pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.BetaWarning"),
]

from omnisync.dagster import omnisync_assets  # noqa: E402
from tests.conftest import ROOT, RunningSandbox  # noqa: E402
from tests.integration._two_syncs import SPEC, write_two_syncs  # noqa: E402


@pytest.fixture
def env(sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("SANDBOX_URL", "OMNISEGMENT_TID", "OMNISEGMENT_API_KEY"):
        monkeypatch.setenv(name, sandbox_env[name])
    return sandbox_env


@pytest.fixture
def instance() -> Any:
    """An in-memory Dagster instance, disposed of (its temporary folder too) after the test."""
    with dg.DagsterInstance.ephemeral() as made:
        yield made


def _materialized(result: Any) -> dict[str, dict[str, Any]]:
    found = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        found[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return found


def _checks(result: Any) -> dict[str, bool]:
    return {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize("pipes", [False, True], ids=["in-process", "pipes"])
def test_a_two_sync_spec_materializes_its_assets(
    tmp_path: Path, env: dict[str, str], sandbox: RunningSandbox, pipes: bool, instance: Any
) -> None:
    spec = write_two_syncs(tmp_path)
    assets = omnisync_assets(spec, key_prefix=["crm"], pipes=pipes)
    defs = dg.Definitions(assets=[assets])
    job = defs.resolve_implicit_global_asset_job_def()
    deps = job.asset_layer.asset_graph.get(dg.AssetKey(["crm", "vouchers"])).parent_keys
    assert deps == {dg.AssetKey(["crm", "members"])}
    result = job.execute_in_process(instance=instance)
    assert result.success
    found = _materialized(result)
    assert set(found) == {"crm/members", "crm/vouchers"}
    members = found["crm/members"]
    assert {k: members[k] for k in ("rows_read", "delivered", "unchanged", "rejected")} == {
        "rows_read": 3,
        "delivered": 2,
        "unchanged": 0,
        "rejected": 1,
    }
    assert Path(members["reject_file"]).exists()
    assert members["run_id"] == found["crm/vouchers"]["run_id"]
    assert found["crm/vouchers"]["reject_file"] is None
    assert _checks(result) == {"crm/members": True, "crm/vouchers": True}
    assert len(sandbox.records("gift_voucher")) == 2


@pytest.mark.parametrize("pipes", [False, True], ids=["in-process", "pipes"])
def test_a_failed_run_fails_the_step_with_its_reason(
    tmp_path: Path, env: dict[str, str], pipes: bool, instance: Any
) -> None:
    """Two of three members rejected: over max_reject_ratio 0.5, exit 3. The members asset is
    still materialized (it delivered) with its check failed; the step fails with the reason."""
    bad = "id,name,email\nM1,Ann,nope\nM2,Bo,not-an-email\nM3,Cy,cy@example.com\n"
    spec = write_two_syncs(tmp_path, members=bad)
    defs = dg.Definitions(assets=[omnisync_assets(spec, pipes=pipes)])
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "exited 3" in message
    assert "max_reject_ratio" in message
    assert _materialized(result)["members"]["rejected"] == 2
    assert _checks(result)["members"] is False


def test_a_subset_runs_only_its_syncs(
    tmp_path: Path, env: dict[str, str], sandbox: RunningSandbox, instance: Any
) -> None:
    spec = write_two_syncs(tmp_path)
    assets = omnisync_assets(spec)
    result = dg.materialize([assets], selection=["vouchers"], instance=instance)
    assert result.success
    assert set(_materialized(result)) == {"vouchers"}
    assert not sandbox.records("audience")


def test_a_sync_that_reads_a_dbt_model_depends_on_its_asset(tmp_path: Path) -> None:
    """dagster-dbt keys a model by its name: that asset is upstream of the sync reading it (not
    when the sync's own key is that name: an asset cannot depend on itself)."""
    shutil.copytree(ROOT / "tests" / "dbt_shop" / "target", tmp_path / "target")
    spec = tmp_path / "shop.yaml"
    spec.write_text(
        SPEC.replace(
            "{csv: {path: members.csv}}", "{sql: {url: 'sqlite://', dbt: {ref: customers}}}"
        )
    )
    graph = dg.Definitions(
        assets=[omnisync_assets(spec, key_prefix=["shop"])]
    ).resolve_asset_graph()
    assert graph.get(dg.AssetKey(["shop", "members"])).parent_keys == {dg.AssetKey("customers")}
    spec.write_text(spec.read_text().replace("members", "customers"))  # the sync takes its name
    graph = dg.Definitions(assets=[omnisync_assets(spec)]).resolve_asset_graph()
    assert graph.get(dg.AssetKey("customers")).parent_keys == set()
