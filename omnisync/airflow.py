"""Airflow: an operator that runs a spec (or some of its syncs), and a task per sync laid out by
`depends_on` (extra `[airflow]`, Airflow 3).

    from omnisync.airflow import OmnisyncOperator, omnisync_tasks

    with DAG("crm", schedule="@daily", start_date=datetime(2024, 1, 1)):
        omnisync_tasks("specs/crm.yaml")            # one task per sync, in depends_on order

The operator runs `omnisync.run` in the worker and returns the run report (the JSON of
`omnisync run --report`) as its XCom `return_value`. A run that exits non-zero fails the task
with the run's error, after pushing the report under the XCom key `report`; an invalid spec
(exit 2) fails it without retries, since a retry cannot fix it. The operator retries nothing
itself: a task Airflow retries runs the spec again and every sync resumes from its stored
position, so with a shared state store (PostgreSQL, S3) any worker picks up where another stopped
(docs/orchestrators.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, Context, TaskGroup
from airflow.sdk.exceptions import AirflowException, AirflowFailException

import omnisync

__all__ = ["OmnisyncOperator", "omnisync_tasks"]


class OmnisyncOperator(BaseOperator):
    """Run a spec's syncs (all enabled ones, or `select`) and return the report through XCom."""

    template_fields: Sequence[str] = ("spec", "select", "after_dbt")
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        spec: str,
        select: Sequence[str] = (),
        after_dbt: str | None = None,
        full_refresh: bool = False,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.select = list(select)
        self.after_dbt = after_dbt
        self.full_refresh = full_refresh
        self.send_nothing = dry_run  # BaseOperator has a dry_run() method of its own

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            report = omnisync.run(
                self.spec,
                select=self.select,
                after_dbt=self.after_dbt,
                full_refresh=self.full_refresh,
                dry_run=self.send_nothing,
            )
        except omnisync.SpecError as exc:
            raise AirflowFailException(f"invalid spec (exit 2):\n{exc}") from None
        except omnisync.OmnisyncError as exc:
            raise AirflowException(f"omnisync stopped (exit {int(exc.exit_code)}): {exc}") from None
        data = report.as_dict()
        if not report.ok:
            context["ti"].xcom_push(key="report", value=data)
            raise AirflowException(
                f"omnisync run {report.run_id} exited {int(report.exit_code)}: {report.error}"
            )
        for sync in report.syncs:
            self.log.info(
                "%s: read %d, delivered %d, unchanged %d, rejected %d%s",
                sync.sync,
                sync.rows_read,
                sync.delivered,
                sync.unchanged,
                sync.rejected,
                f" ({sync.stopped})" if sync.stopped else "",
            )
        return data


def omnisync_tasks(
    spec: str | Path, *, group_id: str | None = None, **operator_args: Any
) -> TaskGroup:
    """A task group with one OmnisyncOperator per enabled sync of the spec (task id: the sync's
    name), each downstream of the syncs it `depends_on`. Call it inside a DAG."""
    info = omnisync.validate(spec, offline=True, require_env=False)
    spec = str(spec)
    with TaskGroup(group_id=group_id or Path(spec).stem) as group:
        tasks = {
            sync.name: OmnisyncOperator(
                task_id=sync.name, spec=spec, select=[sync.name], **operator_args
            )
            for sync in info.syncs
            if sync.enabled
        }
        for sync in info.syncs:
            for upstream in sync.depends_on:
                if sync.name in tasks and upstream in tasks:
                    tasks[upstream] >> tasks[sync.name]
    return group
