"""docs/transforms.md is generated from the registry and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from engine.transforms._docgen import render_markdown
from engine.transforms._expr_functions import FUNCTIONS
from engine.transforms.builtin import TRANSFORMS

DOC = Path(__file__).resolve().parents[3] / "docs" / "transforms.md"


def test_docs_match_the_registry() -> None:
    """Regenerate with `python -m engine.transforms._docgen docs/transforms.md` if this fails."""
    assert DOC.read_text(encoding="utf-8") == render_markdown()


def test_docs_cover_every_transform_and_function() -> None:
    """Every transform has a section and every expression function a table row."""
    text = render_markdown()
    for name in TRANSFORMS:
        assert f"\n## {name}\n" in text
    for function in FUNCTIONS.values():
        assert f"`{function.signature}`" in text
