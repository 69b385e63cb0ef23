"""The run as Markdown: one table row per sync, for a CI job's step summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from engine.logging import redact
from engine.outcomes.ci_run import ci_run_url
from engine.outcomes.report import SyncOutcome

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def markdown(
    outcomes: Sequence[SyncOutcome],
    exit_code: int,
    error: str | None,
    dry_run: bool,
    breaches: Sequence[str] = (),
) -> str:
    """A heading, the table, the reject files worth a look, the broken `expect:` bounds, and
    the error if the run failed."""
    title = "omnisync run" + (" (dry run: nothing sent)" if dry_run else "")
    verdict = "succeeded" if exit_code == 0 else f"failed, exit {exit_code}"
    if exit_code == 5:
        verdict = "degraded, exit 5"
    if exit_code == 6:
        verdict = "triggers of unknown outcome, exit 6"
    lines = [
        f"## {title}: {verdict}",
        "",
        "| spec | sync | read | delivered | unchanged | filtered | rejected | time | exit |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for item in outcomes:
        data = item.stats.as_dict()
        unchanged = data.get("unchanged")
        delivered = f"{data['delivered']}" if not dry_run else f"would send {data['unsent']}"
        lines.append(
            f"| {_cell(item.spec)} | {_cell(data['sync'])} | {data['rows_read']} | {delivered} | "
            f"{'—' if unchanged is None else unchanged} | {data['filtered']} | "
            f"{data['rejected']} | {data['elapsed_s']:.1f}s | {item.exit_code} |"
        )
    if not outcomes:
        lines.append("| — | no sync ran | | | | | | | |")
    rejected = [o for o in outcomes if o.stats.rejected and o.reject_file]
    if rejected:
        lines += ["", "Rejected rows, with the reason for each:", ""]
        lines += [f"- {o.stats.sync}: `{o.reject_file}`" for o in rejected]
    gone = [o for o in outcomes if o.stats.left_source]
    if gone:
        lines += ["", "Records that left the source (sent by omnisync before; see `omnisync why`):"]
        lines += [""] + [f"- {o.stats.sync}: {o.stats.left_source}" for o in gone]
    triggers = [o.stats for o in outcomes if o.stats.events]
    if triggers:  # docs/triggers.md
        lines += ["", "Triggers (each member once per window):", ""]
        lines += [
            f"- {s.sync}: triggered {s.delivered}, skipped (already triggered in the window) "
            f"{s.skipped}, outcome unknown {s.unknown}"
            + (
                ": not sent again, keys in the report; `--resend-unknown` sends them"
                if s.unknown
                else ""
            )
            for s in triggers
        ]
    warned = [(o.stats.sync, w) for o in outcomes for w in o.stats.warnings]
    if warned:
        lines += ["", "Warnings:", ""]
        lines += [f"- {sync}: {_cell(warning)}" for sync, warning in warned]
    if breaches:
        lines += ["", "Degraded (`expect:` not met):", ""]
        lines += [f"- :warning: {_cell(breach)}" for breach in breaches]
    if error and list(breaches) != error.splitlines():
        lines += ["", f"**Error:** {_cell(error)}"]
    link = ci_run_url()
    if link:
        lines += ["", f"[CI run: log and artifacts]({link})"]
    return redact("\n".join(lines)) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(text: str, summary_file: Path | None) -> list[Path]:
    """Appended to $GITHUB_STEP_SUMMARY when set (GitHub gathers every step's); written to
    --summary FILE when given. Returns where it went."""
    targets: list[tuple[Path, str]] = []
    if os.environ.get(STEP_SUMMARY_ENV):
        targets.append((Path(os.environ[STEP_SUMMARY_ENV]), "a"))
    if summary_file is not None:
        targets.append((summary_file, "w"))
    for path, mode in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open(mode, encoding="utf-8") as handle:
            handle.write(text)
    return [path for path, _ in targets]
