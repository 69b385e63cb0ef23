"""Warnings that save a night, said before a sync reads its first row.

Each names the setting to change. They are warnings, not errors: the run goes on as written."""

from __future__ import annotations

import os
from collections.abc import Mapping

from engine.specfile import Spec, SyncSpec

BIG_SOURCE = 10_000
# variables CI services set on their runners (a runner's disk is gone after the job)
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TF_BUILD",
)
LOCAL_BACKENDS = frozenset({"sqlite"})


def on_ci_runner(environ: Mapping[str, str]) -> str | None:
    """The CI variable that says this is a CI runner, if any."""
    return next(
        (name for name in CI_VARIABLES if environ.get(name, "").strip() not in ("", "false", "0")),
        None,
    )


def warnings_for(
    spec: Spec,
    sync: SyncSpec,
    documented_rate: float,
    total: int | None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    environ = os.environ if environ is None else environ
    found = []
    rate = sync.delivery.rate_limit
    if rate is not None and rate > documented_rate:
        found.append(
            f"rate_limit {rate:g}/s is above the endpoint's documented {documented_rate:g}/s: "
            "expect 429s and a slower run; leave rate_limit out to use the documented rate"
        )
    raw = spec.document.data
    ratio_set = "max_reject_ratio" in raw or "max_reject_ratio" in raw["syncs"][sync.index]
    # (defaults: were copied into each sync when the spec was built)
    if not ratio_set and total is not None and total > BIG_SOURCE:
        found.append(
            f"about {total:,} rows and no max_reject_ratio: one rejected row fails the run "
            "(exit 3); set max_reject_ratio (e.g. 0.01) to say how many rejects are acceptable"
        )
    backend = str(spec.state.get("backend", "sqlite"))
    ci = on_ci_runner(environ)
    if sync.cursor and ci and backend in LOCAL_BACKENDS:
        found.append(
            f"incremental sync on a CI runner ({ci} is set) with its state on the runner's disk "
            f"(state backend {backend}): the next job will not find it and reads everything again; "
            "use state: {backend: postgres, url: ...} or {backend: s3, ...}"
        )
    return found
