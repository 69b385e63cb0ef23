"""`omnisync validate`'s findings as text, JSON or GitHub workflow commands (annotations on a PR)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

_POSITION = re.compile(r"^(\d+):(\d+):?\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    """One message about one spec file; line and column when the message has them."""

    file: str
    level: str  # "error" | "warning" | "notice"
    message: str
    line: int | None = None
    column: int | None = None
    text: str = ""  # the line as the loader wrote it, for the text format


def finding(file: str, level: str, text: str) -> Finding:
    """Split `file:line:col path: message` (the loader's one spelling of a position)."""
    rest = text[len(file) + 1 :] if text.startswith(file + ":") else text
    match = _POSITION.match(rest)
    if match is None:
        return Finding(file, level, rest.strip(), text=text)
    line, column = int(match.group(1)), int(match.group(2))
    return Finding(file, level, match.group(3), line, column, text)


@dataclass
class FileResult:
    """What `validate` found in one file: the number of syncs when it is valid, else its errors."""

    file: str
    syncs: int | None
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: list[FileResult]) -> list[str]:
    """`::error file=F,line=L,col=C,title=omnisync::message`, read by GitHub Actions' runner."""
    out = []
    for result in results:
        for item in result.findings:
            props = [f"file={_escape_property(item.file)}"]
            if item.line is not None:
                props += [f"line={item.line}", f"col={item.column}"]
            props.append("title=omnisync validate")
            out.append(f"::{item.level} {','.join(props)}::{_escape_data(item.message)}")
        if result.ok:
            out.append(f"{result.file}: ok ({result.syncs} sync{'s' if result.syncs != 1 else ''})")
    return out


def as_json(results: list[FileResult]) -> str:
    return json.dumps(
        {
            "ok": all(r.ok for r in results),
            "files": [
                {
                    "file": r.file,
                    "ok": r.ok,
                    "syncs": r.syncs,
                    "errors": [_item(f) for f in r.findings if f.level == "error"],
                    "warnings": [_item(f) for f in r.findings if f.level == "warning"],
                    "notes": [_item(f) for f in r.findings if f.level == "notice"],
                }
                for r in results
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def _item(item: Finding) -> dict[str, object]:
    data = asdict(item)
    del data["file"], data["level"], data["text"]
    return data
