"""docs/architecture.md's module map is held against the tree, file by file, in both directions."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _layout_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Layout") : text.index("## Data flow")]
    return section[section.index("```") : section.rindex("```")]


def _modules() -> list[Path]:
    files = [
        *ROOT.glob("engine/**/*.py"),
        *ROOT.glob("connectors/**/*.py"),
        *ROOT.glob("omnisync/**/*.py"),
    ]
    return sorted(p for p in files if p.name not in ("__init__.py", "__main__.py"))


def test_every_module_is_on_the_map() -> None:
    block = _layout_block()
    missing = [str(p.relative_to(ROOT)) for p in _modules() if p.name not in block]
    assert not missing, f"modules missing from docs/architecture.md's layout: {missing}"


def test_every_module_on_the_map_exists() -> None:
    names = {p.name for p in _modules()}
    named = set(re.findall(r"\b[\w]+\.py\b", _layout_block())) - {"__init__.py", "__main__.py"}
    assert not named - names, (
        f"docs/architecture.md names modules that do not exist: {named - names}"
    )
