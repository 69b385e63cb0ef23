"""`omnisync run --html FILE`: the run as one self-contained HTML page — per sync its requests per
second against the rate limit over time (429 answers and retry waits marked), records per sync and
rejects by reason. Inline SVG drawn here, no script and nothing fetched when the page is viewed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.logging import redact
from engine.outcomes.report import SyncOutcome

WIDTH, HEIGHT, PAD = 720, 200, 36
KINDS = (  # records per sync: the report's key, the colour of its bar
    ("delivered", "#2e7d32"),
    ("unchanged", "#90a4ae"),
    ("filtered", "#6d4c41"),
    ("rejected", "#c62828"),
    ("failed", "#6a1b9a"),
    ("unsent", "#f9a825"),
)
STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.4em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.legend span{margin-right:1em}"""


def render(outcomes: Sequence[SyncOutcome], run: Mapping[str, Any], exit_code: int) -> str:
    """The page; every text from the run escaped, and secrets redacted as in every output."""
    data = [o.stats.as_dict() | {"spec": o.spec, "exit_code": o.exit_code} for o in outcomes]
    title = f"omnisync run {run.get('run_id', '')}: exit {exit_code}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>started {escape(str(run.get('started_at', '')))}, finished "
        f"{escape(str(run.get('finished_at', '')))}; specs: "
        f"{escape(', '.join(map(str, run.get('specs', []))))}</p>",
        _records(data),
        _rejects(data),
        *[_requests(sync) for sync in data],
        "</body></html>",
    ]
    return redact("\n".join(parts)) + "\n"


def _records(data: Sequence[Mapping[str, Any]]) -> str:
    """Stacked horizontal bars: what became of each sync's rows."""
    row_height = 28
    height = PAD + row_height * max(len(data), 1)
    most = max([sum(int(s[k] or 0) for k, _ in KINDS) for s in data] + [1])
    scale = (WIDTH - 260) / most
    shapes = []
    for i, sync in enumerate(data):
        y, x = PAD // 2 + i * row_height, 160.0
        shapes.append(f"<text x='4' y='{y + 16}'>{escape(sync['sync'])}</text>")
        for kind, colour in KINDS:
            count = int(sync[kind] or 0)
            if count:
                width = count * scale
                shapes.append(
                    f"<rect class='bar {kind}' x='{x:.1f}' y='{y}' width='{width:.1f}' "
                    f"height='20' fill='{colour}'><title>{kind}: {count}</title></rect>"
                )
                x += width
        shapes.append(f"<text x='{x + 6:.1f}' y='{y + 16}'>{sync['rows_read']} read</text>")
    legend = "".join(f"<span style='color:{c}'>■ {k}</span>" for k, c in KINDS)
    return (
        "<figure id='records'><figcaption>Records per sync</figcaption>"
        f"<svg role='img' class='chart' width='{WIDTH}' height='{height}'>{''.join(shapes)}</svg>"
        f"<div class='legend'>{legend}</div></figure>"
    )


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
    span = max(end - start, 1)

    def x(t: int) -> float:
        return PAD + (t - start) * (WIDTH - 2 * PAD) / span

    def y(v: float) -> float:
        return HEIGHT - PAD - v * (HEIGHT - 2 * PAD) / top

    line = " ".join(f"{x(t):.1f},{y(n):.1f}" for t, n, *_ in seconds)
    shapes = [f"<polyline class='rate' fill='none' stroke='#1565c0' points='{line}'/>"]
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
        f"</figcaption><svg role='img' class='chart' width='{WIDTH}' height='{HEIGHT}'>"
        f"{''.join(shapes)}</svg></figure>"
    )
