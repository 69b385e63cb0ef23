"""The drawing shared by the HTML pages (`run --html`, `history --html`): the page's shell and
style, stacked bars and a line over time, as inline SVG. No script, nothing fetched when a page
is viewed; every text escaped, secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from engine.logging import redact

WIDTH, HEIGHT, PAD = 720, 200, 36
STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.4em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.legend span{margin-right:1em}"""


def page(title: str, parts: Sequence[str]) -> str:
    """A whole page around its figures, secrets redacted as in every output."""
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
    )
    return redact("\n".join([head, *parts, "</body></html>"])) + "\n"


def stacked_bars(
    figure: str,
    caption: str,
    rows: Sequence[tuple[str, Mapping[str, int], str]],
    kinds: Sequence[tuple[str, str]],
    label_width: int = 160,
) -> str:
    """Horizontal stacked bars, one a row: (label, counts by kind, text after the bar). `kinds`:
    (the kind, shown by its name with `_` as a space; its colour), in drawing order. Each piece is
    `<rect class='bar KIND'>` with a `<title>kind: count</title>`."""
    row_height = 28
    height = PAD + row_height * max(len(rows), 1)
    most = max([sum(int(counts.get(k) or 0) for k, _ in kinds) for _, counts, _ in rows] + [1])
    scale = (WIDTH - label_width - 100) / most
    shapes = []
    for i, (label, counts, after) in enumerate(rows):
        y, x = PAD // 2 + i * row_height, float(label_width)
        shapes.append(f"<text x='4' y='{y + 16}'>{escape(label)}</text>")
        for kind, colour in kinds:
            count = int(counts.get(kind) or 0)
            if count:
                width = count * scale
                shapes.append(
                    f"<rect class='bar {kind}' x='{x:.1f}' y='{y}' width='{width:.1f}' "
                    f"height='20' fill='{colour}'><title>{_name(kind)}: {count}</title></rect>"
                )
                x += width
        if after:
            shapes.append(f"<text x='{x + 6:.1f}' y='{y + 16}'>{escape(after)}</text>")
    legend = "".join(f"<span style='color:{c}'>■ {_name(k)}</span>" for k, c in kinds)
    return (
        f"<figure id='{escape(figure)}'><figcaption>{escape(caption)}</figcaption>"
        f"<svg role='img' class='chart' width='{WIDTH + label_width - 160}' height='{height}'>"
        f"{''.join(shapes)}</svg><div class='legend'>{legend}</div></figure>"
    )


def _name(kind: str) -> str:
    return kind.replace("_", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> str:
    """A table of escaped cells; `empty` stands in for no row."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body or f'<tr><td colspan={len(header)}>{empty}</td></tr>'}</table>"


class Axes:
    """Where values go on a chart of WIDTH x HEIGHT: x over [start, end], y over [0, top]."""

    def __init__(self, start: float, end: float, top: float) -> None:
        self.start, self.span, self.top = start, max(end - start, 1), max(top, 1)

    def x(self, t: float) -> float:
        return PAD + (t - self.start) * (WIDTH - 2 * PAD) / self.span

    def y(self, v: float) -> float:
        return HEIGHT - PAD - v * (HEIGHT - 2 * PAD) / self.top


def line(axes: Axes, points: Sequence[tuple[float, float]], css: str, colour: str) -> str:
    """A polyline through (t, v) points."""
    drawn = " ".join(f"{axes.x(t):.1f},{axes.y(v):.1f}" for t, v in points)
    return f"<polyline class='{css}' fill='none' stroke='{colour}' points='{drawn}'/>"


def svg(shapes: Sequence[str]) -> str:
    return (
        f"<svg role='img' class='chart' width='{WIDTH}' height='{HEIGHT}'>{''.join(shapes)}</svg>"
    )
