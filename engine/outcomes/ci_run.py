"""Where the CI run that ran omnisync can be seen: a link for the notification and the summary,
so whoever reads "the nightly sync failed" is one click from the job's log and artifacts."""

from __future__ import annotations

import os
from collections.abc import Mapping


def ci_run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """GitHub Actions' run page (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID),
    else GitLab's job page (CI_JOB_URL); None outside CI."""
    env = os.environ if environ is None else environ
    server, repository, run_id = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if server and repository and run_id:
        url = f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        return f"{url}/attempts/{attempt}" if attempt and attempt != "1" else url
    job = env.get("CI_JOB_URL")
    return job if job and job.startswith(("https://", "http://")) else None
