"""The Dagster Pipes child: `python -m omnisync.pipes SPEC [--select SYNC --key SYNC=ASSET]...`.

Runs the spec through `omnisync.run` in this process and reports, through `dagster-pipes`, a
materialization (counts, reject file, run id) and a `reject_ratio` check for every sync that ran
to its end, then one custom message with the run's exit code and error. It exits 0 once the run is
reported: the orchestrator side (`omnisync.dagster.pipes_results`) fails the step with the run's
reason. An invalid spec or a run stopped before its syncs exits with the command's code.
Only `dagster-pipes` is needed here, not Dagster.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dagster_pipes import PipesContext, open_dagster_pipes

import omnisync
from omnisync._materialization import REJECT_RATIO_CHECK, check_outcome, materializes, metadata
from omnisync.report import RunReport


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnisync.pipes")
    parser.add_argument("spec")
    parser.add_argument("--select", action="append", default=[])
    parser.add_argument("--key", action="append", default=[], help="SYNC=ASSET/KEY")
    args = parser.parse_args(argv)
    keys = dict(k.split("=", 1) for k in args.key)
    with open_dagster_pipes() as pipes:
        try:
            report = omnisync.run(args.spec, select=args.select)
        except omnisync.OmnisyncError as exc:
            pipes.log.error(str(exc))
            print(f"error: {exc}", file=sys.stderr)
            return int(exc.exit_code)
        _report(pipes, report, keys)
    return 0


def _report(pipes: PipesContext, report: RunReport, keys: dict[str, str]) -> None:
    limits = pipes.extras.get("max_reject_ratio", {})
    for sync in report.syncs:
        if not materializes(sync):
            continue
        key = keys.get(sync.sync, sync.sync)
        pipes.report_asset_materialization(metadata=metadata(sync, report.run_id), asset_key=key)
        passed, check = check_outcome(sync, float(limits.get(sync.sync, 0.0)))
        pipes.report_asset_check(REJECT_RATIO_CHECK, passed, metadata=check, asset_key=key)
    pipes.report_custom_message(
        {
            "omnisync_exit_code": int(report.exit_code),
            "error": report.error,
            "run_id": report.run_id,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
