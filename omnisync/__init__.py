"""omnisync from Python: validate a spec, preview it, run it and read the report.

    import omnisync

    omnisync.validate("sync.yaml")                       # SpecError (exit code 2) when invalid
    report = omnisync.run("sync.yaml", select=["members"])
    print(report.sync("members").delivered)
    report.raise_for_exit()                              # RunFailed with the run's exit code

The same code as the `omnisync` command runs underneath; every error carries the command's exit
code (`err.exit_code`). Orchestrators: `omnisync.dagster` and `omnisync.airflow` (extras
`[dagster]`, `[airflow]`), imported only when asked for (docs/orchestrators.md).
"""

from engine.errors import ExitCode, OmnisyncError, SpecError
from omnisync.api import (
    SpecInfo,
    SyncInfo,
    SyncPreview,
    configure_logging,
    plan,
    run,
    validate,
)
from omnisync.report import RunFailed, RunReport, SyncReport

__all__ = [
    "ExitCode",
    "OmnisyncError",
    "RunFailed",
    "RunReport",
    "SpecError",
    "SpecInfo",
    "SyncInfo",
    "SyncPreview",
    "SyncReport",
    "configure_logging",
    "plan",
    "run",
    "validate",
]
