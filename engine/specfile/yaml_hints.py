"""What to do about a YAML syntax error, in the spec writer's words.

The parser says what it found ("found character that cannot start any token", "did not find
expected key"); the usual causes in a spec are a tab, a line indented to no block's column, a line
indented deeper than the key above (read as part of its value) and a ${VAR} in a flow mapping. One
hint is added to the parser's text, naming the line to change.
"""

from __future__ import annotations

_INDENT_PROBLEMS = (
    "did not find expected key",
    "mapping values are not allowed",
    "expected <block end>",
    "did not find expected '-' indicator",
    "could not find expected ':'",
)


def syntax_hint(text: str, line: int | None, problem: str) -> str:
    """A hint for the parser's problem at 0-based `line`, or ""."""
    lines = text.splitlines()
    if line is None:
        return _quote_hint(lines)
    tabbed = _tab_line(lines, line)
    if tabbed is not None:
        return (
            f" (line {tabbed + 1} is indented with a tab: YAML indents with spaces; "
            "replace the tab with spaces)"
        )
    if any(problem.startswith(p) for p in _INDENT_PROBLEMS):
        hint = _indent_hint(lines, line)
        if hint:
            return hint
    return _quote_hint(lines[max(0, line - 1) : line + 1])


def _tab_line(lines: list[str], line: int) -> int | None:
    """The line (0-based) near the error whose indentation holds a tab."""
    for index in (line, line - 1, line + 1):
        if 0 <= index < len(lines):
            text = lines[index]
            indent = text[: len(text) - len(text.lstrip(" \t"))]
            if "\t" in indent:
                return index
    return None


def _indent_hint(lines: list[str], line: int) -> str:
    """Compare the error's line with the content lines above it."""
    if not 0 <= line < len(lines):
        return ""
    here = _column(lines[line])
    above = [(i, lines[i]) for i in range(line - 1, -1, -1) if _is_content(lines[i])]
    if here is None or not above:
        return ""
    previous, previous_text = above[0]
    there = _column(previous_text) or 0
    if here > there and not previous_text.rstrip().endswith(":"):
        return (
            f" (line {line + 1} is indented deeper than line {previous + 1} above, so YAML reads "
            f"it as part of that line's value: start it in column {there}, as line "
            f"{previous + 1}, or end line {previous + 1} with ':' if this belongs under it)"
        )
    blocks = sorted({c for _, text in above for c in _block_columns(text)})
    if here not in blocks:
        near = [c for c in blocks if c < here][-1:] + [c for c in blocks if c > here][:1]
        columns = " or ".join(str(c) for c in near)
        return (
            f" (line {line + 1} starts in column {here}, where no block above starts: move it "
            f"to column {columns}, the column of the keys it belongs with)"
        )
    return ""


def _is_content(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#") and stripped != "---"


def _column(text: str) -> int | None:
    """1-based column of the first character, None for a blank line."""
    stripped = text.lstrip(" ")
    return len(text) - len(stripped) + 1 if stripped else None


def _block_columns(text: str) -> list[int]:
    """Columns where keys start on this line: its first character, and after each `- `."""
    column = _column(text)
    if column is None:
        return []
    found = [column]
    rest = text[column - 1 :]
    while rest.startswith("- "):
        inner = rest[2:].lstrip(" ")
        column += len(rest) - len(inner)
        found.append(column)
        rest = inner
    return found


def _quote_hint(near: list[str]) -> str:
    """`{path: ${VAR:-x}}` is not YAML (braces and a colon in a flow mapping): say to quote it."""
    if any("${" in candidate and "{" in candidate.replace("${", "") for candidate in near):
        return ' (hint: quote a ${VAR} inside {...} or [...]: "${VAR:-default}")'
    return ""
