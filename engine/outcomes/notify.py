"""An optional failure notification: a POST with a Slack-compatible JSON body (`{"text": ...}`),
which Slack's incoming webhooks, Mattermost, Rocket.Chat, Teams workflows and most chat tools take.

Sent only when a run fails or degrades (an `expect:` bound broken); a notification that cannot
be sent is a warning, never a new failure."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

from engine import logging as omnilog
from engine.logging import redact
from engine.outcomes.ci_run import ci_run_url
from engine.outcomes.report import SyncOutcome

log = omnilog.get_logger("omnisync.notify")


def failure_text(
    outcomes: Sequence[SyncOutcome],
    exit_code: int,
    error: str | None,
    run_id: str,
    breaches: Sequence[str] = (),
) -> str:
    """The message: the verdict, the error, each broken `expect:` bound, a line per sync."""
    verdict = "degraded" if exit_code in (0, 5) and breaches else "failed"
    lines = [f":rotating_light: omnisync run {run_id} {verdict} (exit {exit_code})"]
    if error and list(breaches) != error.splitlines():
        lines.append(f"error: {error}")
    lines += [f"expect not met: {breach}" for breach in breaches]
    for item in outcomes:
        data = item.stats.as_dict()
        lines.append(
            f"• {data['sync']} ({item.spec}): read {data['rows_read']}, delivered "
            f"{data['delivered']}, filtered {data['filtered']}, rejected {data['rejected']}"
            + (f", failed {data['failed']}" if data["failed"] else "")
            + f", exit {item.exit_code}"
            + (f", rejects in {item.reject_file}" if item.reject_file else "")
        )
    link = ci_run_url()
    if link:
        lines.append(f"CI run (log and reject files): {link}")
    return redact("\n".join(lines))


def send(url: str, text: str, timeout: float = 10.0) -> bool:
    """POST {"text": text}; True when the hook answered 2xx."""
    body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status = int(answer.status)
            ok = 200 <= status < 300
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        log.warning("notification_not_sent", reason=redact(str(exc)))
        return False
    if not ok:
        log.warning("notification_not_sent", reason=f"HTTP {status}")
    return ok
