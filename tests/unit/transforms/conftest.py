"""Fixtures for the transform tests: build a transform exactly as the mapping compiler will."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from engine.transforms.base import Transform, TransformContext
from engine.transforms.builtin import TRANSFORMS

Make = Callable[..., Transform]


def build_transform(name: str, args: Any = None, ctx: TransformContext | None = None) -> Transform:
    """Validate args against the transform's schema, then build it (what the compiler does)."""
    spec = TRANSFORMS[name]
    jsonschema.Draft202012Validator(spec.args_schema).validate(args)
    return spec.build(args, ctx or TransformContext())


@pytest.fixture
def make() -> Make:
    """`make(name, args=None, ctx=None)` -> the compiled transform."""
    return build_transform
