"""The run as Prometheus metrics, for people who watch dashboards: a textfile-collector file
(node_exporter's --collector.textfile.directory) and a push to a Pushgateway.

One gauge family per figure, labelled by spec and sync, plus the run's exit code and end time.
A push that fails is a warning, never a new failure (like the webhook)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

from engine import logging as omnilog
from engine.logging import redact
from engine.outcomes.report import SyncOutcome

log = omnilog.get_logger("omnisync.metrics")

JOB = "omnisync"
# name -> (the report's key, help)
FIGURES = {
    "rows_read": ("rows_read", "Rows read from the source"),
    "records_delivered": ("delivered", "Records the API acknowledged"),
    "records_unchanged": ("unchanged", "Records skipped: the API already had this content"),
    "rows_filtered": ("filtered", "Rows the spec's filter or dedupe left out"),
    "rows_rejected": ("rejected", "Rows rejected, with a reason in the reject file"),
    "records_failed": ("failed", "Records the API kept failing past the retry policy"),
    "requests": ("requests", "HTTP requests sent"),
    "throttled_429": ("throttled_429", "Answers 429 (too many requests)"),
    "retry_wait_seconds": ("waiting_on_retries_s", "Seconds requests waited before a retry"),
    "duration_seconds": ("elapsed_s", "Seconds the sync ran"),
}


def collect(
    outcomes: Sequence[SyncOutcome], exit_code: int, breaches: Sequence[str] = ()
) -> CollectorRegistry:
    """A registry of its own (never the process-wide one), filled from the run's outcomes."""
    registry = CollectorRegistry()
    labels = ("spec", "sync")
    for name, (key, text) in FIGURES.items():
        gauge = Gauge(f"omnisync_sync_{name}", text, labels, registry=registry)
        for item in outcomes:
            data = item.stats.as_dict()
            gauge.labels(item.spec, item.stats.sync).set(float(data[key]))
    sync_exit = Gauge("omnisync_sync_exit_code", "The sync's exit code", labels, registry=registry)
    for item in outcomes:
        sync_exit.labels(item.spec, item.stats.sync).set(item.exit_code)
    Gauge("omnisync_run_exit_code", "The run's exit code", registry=registry).set(exit_code)
    Gauge("omnisync_run_expect_breaches", "`expect:` bounds the run broke", registry=registry).set(
        len(breaches)
    )
    Gauge(
        "omnisync_run_finished_timestamp_seconds",
        "When the run ended (Unix time)",
        registry=registry,
    ).set(time.time())
    return registry


def write_file(path: Path, registry: CollectorRegistry) -> None:
    """Written to a temporary file and renamed, so the collector never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def push(url: str, registry: CollectorRegistry, timeout: float = 10.0) -> bool:
    """PUT to the Pushgateway under job `omnisync`; True when it took them."""
    try:
        push_to_gateway(url, job=JOB, registry=registry, timeout=timeout)
    except (OSError, ValueError) as exc:  # URLError is an OSError; a bad URL a ValueError
        log.warning("metrics_not_pushed", reason=redact(str(exc)))
        return False
    return True
