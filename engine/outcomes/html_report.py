"""`omnisync run --html FILE`: the run as one self-contained HTML page — per sync its requests per
second against the rate limit over time (429 answers and retry waits marked), records per sync and
rejects by reason. Inline SVG (drawn by html_charts.py), no script and nothing fetched when the
page is viewed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.outcomes.html_charts import HEIGHT, PAD, WIDTH, Axes, line, page, stacked_bars, svg
from engine.outcomes.report import SyncOutcome

KINDS = (  # records per sync: the report's key, the colour of its bar
    ("delivered", "#2e7d32"),
    ("unchanged", "#90a4ae"),
    ("filtered", "#6d4c41"),
    ("rejected", "#c62828"),
    ("failed", "#6a1b9a"),
    ("unsent", "#f9a825"),
)


def render(outcomes: Sequence[SyncOutcome], run: Mapping[str, Any], exit_code: int) -> str:
    """The page; every text from the run escaped, and secrets redacted as in every output."""
    data = [o.stats.as_dict() | {"spec": o.spec, "exit_code": o.exit_code} for o in outcomes]
    title = f"omnisync run {run.get('run_id', '')}: exit {exit_code}"
    return page(
        title,
        [
            f"<p>started {escape(str(run.get('started_at', '')))}, finished "
            f"{escape(str(run.get('finished_at', '')))}; specs: "
            f"{escape(', '.join(map(str, run.get('specs', []))))}</p>",
            _records(data),
            _rejects(data),
            *[_requests(sync) for sync in data],
        ],
    )


def _records(data: Sequence[Mapping[str, Any]]) -> str:
    """Stacked horizontal bars: what became of each sync's rows."""
    rows = [(str(s["sync"]), s, f"{s['rows_read']} read") for s in data]
    return stacked_bars("records", "Records per sync", rows, KINDS)


def _rejects(data: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        f"<tr><td>{escape(sync['sync'])}</td><td>{escape(reason)}</td><td>{count}</td></tr>"
        for sync in data
        for reason, count in sync["reject_reasons"].items()
    ]
    body = "".join(rows) or "<tr><td colspan='3'>no row was rejected</td></tr>"
    return (
        "<figure id='rejects'><figcaption>Rejects by reason</figcaption><table>"
        f"<tr><th>sync</th><th>reason</th><th>rows</th></tr>{body}</table></figure>"
    )


def _requests(sync: Mapping[str, Any]) -> str:
    """Answers per second over the sync's time, the limit dashed, 429s red, retry waits orange."""
    seconds: list[list[int]] = sync["per_second"]
    limit = sync["rate_limit"]
    name = escape(sync["sync"])
    caption = f"{name}: requests per second" + (f" (limit {limit:g}/s)" if limit else "")
    if not seconds:
        return (
            f"<figure class='requests'><figcaption>{caption}</figcaption><p>no request</p></figure>"
        )
    start, end = seconds[0][0], seconds[-1][0]
    top = float(max([c[1] for c in seconds] + [limit or 0, 1]))
    axes = Axes(start, end, top)
    x, y = axes.x, axes.y
    shapes = [line(axes, [(t, n) for t, n, *_ in seconds], "rate", "#1565c0")]
    if limit:
        shapes.append(
            f"<line class='limit' x1='{PAD}' x2='{WIDTH - PAD}' y1='{y(limit):.1f}' "
            f"y2='{y(limit):.1f}' stroke='#c62828' stroke-dasharray='6 4'/>"
        )
    for t, _, throttled, waits in seconds:
        if throttled:
            shapes.append(
                f"<circle class='throttled' cx='{x(t):.1f}' cy='{PAD - 10}' r='4' fill='#c62828'>"
                f"<title>{throttled} × 429</title></circle>"
            )
        if waits:
            shapes.append(
                f"<rect class='retry-wait' x='{x(t) - 2:.1f}' y='{HEIGHT - PAD + 4}' width='4' "
                f"height='8' fill='#ef6c00'><title>{waits} retry waits began</title></rect>"
            )
    shapes += [
        f"<text x='{PAD}' y='{HEIGHT - 4}'>0s</text>",
        f"<text x='{WIDTH - PAD - 30}' y='{HEIGHT - 4}'>{end - start}s</text>",
        f"<text x='2' y='{y(top) + 4:.1f}'>{top:g}/s</text>",
    ]
    return (
        f"<figure class='requests' data-sync='{name}'><figcaption>{caption}; "
        f"<span style='color:#c62828'>● 429</span> <span style='color:#ef6c00'>▮ retry wait</span>"
        f"</figcaption>{svg(shapes)}</figure>"
    )
