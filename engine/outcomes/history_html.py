"""`omnisync history SPEC --html FILE`: the spec's runs over time as one self-contained page —
per sync the records of each run by what became of them (new, changed, unchanged, filtered,
rejected, failed, left the source), each run's exit code and duration, and a table of the runs.
Drawn with the run page's helpers (html_charts.py): inline SVG, no script, nothing fetched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.outcomes.html_charts import HEIGHT, PAD, Axes, line, page, stacked_bars, svg, table

KINDS = (  # a run's records by action: the page's name for it, its colour
    ("new", "#2e7d32"),
    ("changed", "#1565c0"),
    ("sent", "#558b2f"),  # runs recorded before new and changed were told apart
    ("unchanged", "#90a4ae"),
    ("filtered", "#6d4c41"),
    ("rejected", "#c62828"),
    ("failed", "#6a1b9a"),
    ("left_the_source", "#f9a825"),
)
EXIT_COLOURS = {0: "#2e7d32", 5: "#ef6c00"}  # others red; a run that did not finish grey


def render(spec: str, store: str, runs: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """`runs` as `history --format json` gives them (newest first); drawn oldest first."""
    ordered = list(reversed(runs))
    parts = [
        f"<p>{len(ordered)} run{'' if len(ordered) == 1 else 's'} kept in {escape(store)}"
        + (
            f", {escape(ordered[0]['started'])} to {escape(ordered[-1]['started'])}"
            if ordered
            else ""
        )
        + "</p>",
        *[_records(name, ordered) for name in names],
        _exit_codes(ordered),
        _durations(ordered),
        "<figure id='runs'><figcaption>Runs, newest first</figcaption>"
        + table(
            ["started", "run", "exit code", "duration", "commit", *names],
            [_row(run, names) for run in runs],
            "no runs yet",
        )
        + "</figure>",
    ]
    return page(f"omnisync history of {spec}", parts)


def by_action(counts: Mapping[str, Any]) -> dict[str, int]:
    """A run's counts of one sync as the page's kinds."""
    if "new" in counts:
        found = {"new": int(counts["new"] or 0), "changed": int(counts.get("changed") or 0)}
    else:
        found = {"sent": int(counts.get("delivered") or 0)}
    for kind in ("unchanged", "filtered", "rejected", "failed"):
        found[kind] = int(counts.get(kind) or 0)
    found["left_the_source"] = int(counts.get("left_source") or 0)
    return found


def _records(name: str, runs: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (_when(run), by_action(counts), _ending(run))
        for run in runs
        if (counts := run["syncs"].get(name)) is not None
    ]
    used = {k for _, counts, _ in rows for k, v in counts.items() if v}
    kinds = [(k, c) for k, c in KINDS if k != "sent" or "sent" in used]
    figure = stacked_bars(f"records-{name}", f"{name}: records per run", rows, kinds, 220)
    return figure.replace("<figure ", f"<figure class='history' data-sync='{escape(name)}' ", 1)


def _when(run: Mapping[str, Any]) -> str:
    replay = " (replay)" if run.get("kind") == "replay" else ""  # `rejects replay`
    return str(run["started"])[:19].replace("T", " ") + replay


def _ending(run: Mapping[str, Any]) -> str:
    return "did not finish" if run.get("ended") is None else f"exit {run['exit_code']}"


def _seconds(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


def _duration(run: Mapping[str, Any]) -> float | None:
    if run.get("ended") is None:
        return None
    return max(_seconds(run["ended"]) - _seconds(run["started"]), 0.0)


def _axes(runs: Sequence[Mapping[str, Any]], top: float) -> Axes:
    times = [_seconds(run["started"]) for run in runs] or [0.0]
    return Axes(times[0], times[-1], top)


def _exit_codes(runs: Sequence[Mapping[str, Any]]) -> str:
    """A dot per run at its start: green exit 0, orange 5 (degraded), red other, grey unfinished."""
    axes = _axes(runs, 1)
    shapes = []
    for run in runs:
        code = int(run.get("exit_code") or 0)
        colour = "#9e9e9e" if run.get("ended") is None else EXIT_COLOURS.get(code, "#c62828")
        css = "unfinished" if run.get("ended") is None else f"exit-{code}"
        shapes.append(
            f"<circle class='run {css}' cx='{axes.x(_seconds(run['started'])):.1f}' "
            f"cy='{HEIGHT // 2}' r='6' fill='{colour}'><title>run {escape(run['run_id'])} at "
            f"{escape(_when(run))}: {escape(_ending(run))}</title></circle>"
        )
    return (
        "<figure id='exit-codes'><figcaption>Exit code of each run; "
        "<span style='color:#2e7d32'>● 0</span> <span style='color:#ef6c00'>● 5 (degraded)</span> "
        "<span style='color:#c62828'>● failed</span> "
        "<span style='color:#9e9e9e'>● did not finish</span></figcaption>"
        f"{svg(shapes)}</figure>"
    )


def _durations(runs: Sequence[Mapping[str, Any]]) -> str:
    """Each finished run's duration at its start, joined by a line."""
    points = [
        (_seconds(run["started"]), seconds)
        for run in runs
        if (seconds := _duration(run)) is not None
    ]
    if not points:
        return (
            "<figure id='durations'><figcaption>Duration of each run</figcaption>"
            "<p>no finished run</p></figure>"
        )
    top = max(v for _, v in points)
    axes = _axes(runs, top)
    shapes = [line(axes, points, "duration", "#1565c0")]
    shapes += [
        f"<circle class='duration' cx='{axes.x(t):.1f}' cy='{axes.y(v):.1f}' r='3' "
        f"fill='#1565c0'><title>{v:.1f}s</title></circle>"
        for t, v in points
    ]
    shapes.append(f"<text x='2' y='{PAD - 4}'>{top:.1f}s</text>")
    return (
        "<figure id='durations'><figcaption>Duration of each run (seconds)</figcaption>"
        f"{svg(shapes)}</figure>"
    )


def _row(run: Mapping[str, Any], names: Sequence[str]) -> list[object]:
    seconds = _duration(run)
    cells: list[object] = [
        _when(run),
        run["run_id"],
        "did not finish" if run.get("ended") is None else run["exit_code"],
        "" if seconds is None else f"{seconds:.1f}s",
        (run.get("commit") or "")[:12],
    ]
    for name in names:
        counts = run["syncs"].get(name)
        if counts is None or "read" not in counts:
            cells.append("" if counts is None else "no counts")
            continue
        shown = by_action(counts)
        cells.append(
            f"read {counts['read']}: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items() if v)
        )
    return cells
