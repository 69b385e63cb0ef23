"""Text transforms: trim, lower, upper, truncate, regex_replace, split, join.

None passes through every one of them untouched.
"""

from __future__ import annotations

from typing import Any

from engine.transforms.base import (
    NO_ARGS_SCHEMA,
    Transform,
    TransformContext,
    TransformDef,
    TransformError,
)
from engine.transforms.builtin._common import as_text, schema
from engine.transforms.builtin._regex import compile_substitution


def _build_trim(_args: None, _ctx: TransformContext) -> Transform:
    def trim(value: Any) -> Any:
        if value.__class__ is str:
            return value.strip()
        if value is None:
            return None
        return as_text(value, "trim").strip()

    return trim


def _build_lower(_args: None, _ctx: TransformContext) -> Transform:
    def lower(value: Any) -> Any:
        if value.__class__ is str:
            return value.lower()
        if value is None:
            return None
        return as_text(value, "lower").lower()

    return lower


def _build_upper(_args: None, _ctx: TransformContext) -> Transform:
    def upper(value: Any) -> Any:
        if value.__class__ is str:
            return value.upper()
        if value is None:
            return None
        return as_text(value, "upper").upper()

    return upper


def _build_truncate(args: int, _ctx: TransformContext) -> Transform:
    limit = int(args)  # JSON Schema's integer admits 3.0, which a slice does not

    def truncate(value: Any) -> Any:
        if value is None:
            return None
        return as_text(value, "truncate")[:limit]

    return truncate


def _build_regex_replace(args: dict[str, Any], _ctx: TransformContext) -> Transform:
    replacement: str = args.get("replacement", "")
    count = int(args.get("count", 0))  # 2.0 is a JSON Schema integer
    sub = compile_substitution(
        args["pattern"], replacement, args.get("ignore_case", False), "regex_replace"
    )

    def regex_replace(value: Any) -> Any:
        if value is None:
            return None
        return sub(as_text(value, "regex_replace"), count)

    return regex_replace


_strip = str.strip


def _build_split(args: str, _ctx: TransformContext) -> Transform:
    separator = args

    def split(value: Any) -> Any:
        if value is None:
            return None
        return [item for item in map(_strip, as_text(value, "split").split(separator)) if item]

    return split


def _join_item(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, bool) or not isinstance(item, int | float):
        raise TransformError(f"join: cannot join a {type(item).__name__} item")
    return str(item)


def _build_join(args: str, _ctx: TransformContext) -> Transform:
    separator = args

    def join(value: Any) -> Any:
        if value is None or value.__class__ is str:
            return value
        if not isinstance(value, list | tuple):
            raise TransformError(f"join expects a list, got {type(value).__name__}")
        try:
            return separator.join(value)  # all text: the common case, in C
        except TypeError:
            return separator.join([_join_item(item) for item in value if item is not None])

    return join


DEFINITIONS = [
    TransformDef(
        name="trim",
        args_schema=NO_ARGS_SCHEMA,
        build=_build_trim,
        summary="Strip leading and trailing whitespace (Unicode spaces included).",
        example="trim",
        example_input="  Alice Chen\u3000",
        example_output="Alice Chen",
        takes_args=False,
    ),
    TransformDef(
        name="lower",
        args_schema=NO_ARGS_SCHEMA,
        build=_build_lower,
        summary="Lowercase the text.",
        example="lower",
        example_input="Alice@Example.COM",
        example_output="alice@example.com",
        takes_args=False,
    ),
    TransformDef(
        name="upper",
        args_schema=NO_ARGS_SCHEMA,
        build=_build_upper,
        summary="Uppercase the text.",
        example="upper",
        example_input="tw-a12",
        example_output="TW-A12",
        takes_args=False,
    ),
    TransformDef(
        name="truncate",
        args_schema=schema({"type": "integer", "minimum": 1}),
        build=_build_truncate,
        summary="Cut the text to at most N characters (code points, not bytes).",
        example="{truncate: 5}",
        example_input="台北市信義區市府路",
        example_output="台北市信義",
    ),
    TransformDef(
        name="regex_replace",
        args_schema=schema(
            {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "minLength": 1},
                    "replacement": {"type": "string"},
                    "count": {"type": "integer", "minimum": 0},
                    "ignore_case": {"type": "boolean"},
                },
                "required": ["pattern"],
                "additionalProperties": False,
            }
        ),
        build=_build_regex_replace,
        summary=(
            "Replace every match of a regex (Python syntax, run in linear time by RE2, so no "
            "backreferences or lookaround, and `$` matches only at the very end; `replacement` "
            "may use \\1 or \\g<name>; `count: 0` means all)."
        ),
        example='{regex_replace: {pattern: "[^0-9]", replacement: ""}}',
        example_input="A-123/45",
        example_output="12345",
    ),
    TransformDef(
        name="split",
        args_schema=schema({"type": "string", "minLength": 1}),
        build=_build_split,
        summary="Split text on a separator into a list; items are trimmed and empty ones dropped.",
        example='{split: ";"}',
        example_input="vip; newsletter;;  ",
        example_output=["vip", "newsletter"],
    ),
    TransformDef(
        name="join",
        args_schema=schema({"type": "string"}),
        build=_build_join,
        summary="Join a list with a separator; None items are skipped, text passes as-is.",
        example='{join: ","}',
        example_input=["vip", "newsletter"],
        example_output="vip,newsletter",
    ),
]
