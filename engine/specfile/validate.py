"""JSON Schema errors turned into one line each: file:line:col path: what is wrong (did you mean ...).

A valid spec is confirmed by the compiled check (engine.fastcheck); jsonschema is imported only to
explain an invalid one, as its import alone costs more than the rest of `omnisync validate`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import yaml

from engine.errors import SpecIssue
from engine.fastcheck import compile_schema
from engine.specfile.yaml12 import read_scalar
from engine.specfile.yaml_loader import JsonPath, LocatedDocument, dotted
from engine.suggest import suggest

if TYPE_CHECKING:
    from jsonschema import ValidationError

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def validity(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """`Draft202012Validator(schema).is_valid`, compiled once for the checks of one spec (the
    whole composed schema costs more to compile than to check a spec against)."""
    check = compile_schema(schema)
    if check is not None:
        return check

    def slow(instance: Any) -> bool:
        from jsonschema import Draft202012Validator

        return bool(Draft202012Validator(schema).is_valid(instance))

    return slow


def schema_issues(
    schema: dict[str, Any], data: Any, valid: Callable[[Any], bool] | None = None
) -> list[SpecIssue]:
    """`valid`: the schema's compiled check, when the caller holds one already."""
    if (valid or validity(schema))(data):
        return []
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    issues: list[SpecIssue] = []
    for error in validator.iter_errors(data):
        issues.extend(_describe(error))
    return issues


def format_issues(doc: LocatedDocument, issues: Iterable[SpecIssue]) -> list[str]:
    """Sorted by position so the output reads top to bottom like the file."""
    located = []
    for issue in issues:
        mark = doc.locate(issue.path, at_key=issue.at_key)
        text = f"{mark.where(doc.file)} {dotted(issue.path)}: {issue.message}"
        if not issue.at_key and issue.path in doc.plain and _about_the_value(issue.message):
            written, read = doc.plain[issue.path]
            text += (
                f" (YAML reads {written} as {read}; quote it for the text: '{written}')"
                if written
                else " (nothing is written after it or indented under it)"
            )
        elif issue.at_key and issue.message.startswith("unknown key"):
            text += _dedented_hint(doc, issue.path)
        located.append((mark.line, mark.column, text))
    return [text for *_, text in sorted(set(located))]


def _about_the_value(message: str) -> bool:
    """A complaint about the kind of value (where how YAML read it may be the cause)."""
    return message.startswith(("expected ", "must be ")) or " is not one of " in message


def _dedented_hint(doc: LocatedDocument, path: JsonPath) -> str:
    """An unknown key right below an empty key of the same block was likely meant under it:
    `destination:` followed by `endpoint: audience` at the same indentation."""
    parent = doc.data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return ""
    here = doc.keys.get(path)
    if not isinstance(parent, dict) or here is None:
        return ""
    empty = [
        (mark.line, key)
        for key, value in parent.items()
        if value is None
        and (mark := doc.keys.get((*path[:-1], key))) is not None
        and mark.line < here.line
        and mark.column == here.column
    ]
    if not empty:
        return ""
    line, key = max(empty)
    return f"; if it belongs under '{key}:' (line {line}, empty), indent it deeper than '{key}:'"


def _describe(error: ValidationError) -> list[SpecIssue]:
    path: JsonPath = tuple(error.absolute_path)
    kind = error.validator
    value: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        extras = [k for k in value if k not in known]
        what = "source type" if _is_source_block(schema) else "key"
        return [
            SpecIssue(
                (*path, k),
                f"unknown {what} {_short(k)}{suggest(k, known)}" + _choices(known, what),
                at_key=True,
            )
            for k in extras
        ]
    if kind == "required":
        required: list[str] = error.validator_value  # type: ignore[assignment]  # a list for "required"
        missing = [r for r in required if r not in value]
        return [SpecIssue(path, f"missing required key '{m}'") for m in missing]
    if kind in ("oneOf", "anyOf") and error.context:
        return _describe(_closest(error))
    return [SpecIssue(path, _message(kind, error.validator_value, value, schema))]


def _message(kind: Any, expected: Any, value: Any, schema: dict[str, Any]) -> str:
    if kind == "enum":
        options = ", ".join(repr(o) for o in expected)
        hint = suggest(value, [str(o) for o in expected]) if isinstance(value, str) else ""
        meaning = f" ({schema['description']})" if schema.get("description") else ""
        return f"{value!r} is not one of {options}{meaning}{hint}"
    if kind == "not" and isinstance(expected, dict) and expected.get("description"):
        return str(expected["description"])
    if kind == "const":
        return f"must be {expected!r}, got {value!r}"
    if kind == "type":
        names: list[str] = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        got = "null" if value is None else f"{_kind_of(value)} {_short(value)}"
        return f"expected {wanted}, got {got}"
    if kind == "minItems":
        return f"must have at least {expected} item{'s' if expected != 1 else ''}"
    if kind == "minProperties":
        return f"must have at least {expected} key{'s' if expected != 1 else ''}"
    if kind == "maxProperties":
        if expected == 1:
            return f"must have exactly one key, got {len(value)}: {', '.join(map(str, value))}"
        return f"must have at most {expected} keys"
    if kind == "pattern":
        if "description" in schema:
            return f"{value!r} is not valid: {schema['description']}"
        return f"{value!r} does not match the pattern {expected}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {
            "minimum": ">=",
            "exclusiveMinimum": ">",
            "maximum": "<=",
            "exclusiveMaximum": "<",
        }
        return f"must be {words[kind]} {expected}, got {value!r}"
    if kind == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if kind == "maxLength":
        return f"must be at most {expected} characters, got {len(value)}"
    description = schema.get("description")
    return f"{_short(value)} is invalid" + (f": {description}" if description else "")


def _closest(error: ValidationError) -> ValidationError:
    """Of a oneOf's branches, the one whose type fits the value explains the failure best."""
    from jsonschema.exceptions import best_match

    branches = error.context or []
    same_type = [e for e in branches if e.validator != "type"]
    closest: ValidationError = best_match(same_type or branches)
    return closest


def _is_source_block(schema: dict[str, Any]) -> bool:
    return schema.get("maxProperties") == 1 and "sources" in str(schema.get("properties", {}))


def _choices(known: list[str], what: str) -> str:
    if what != "key" and known:
        return f"; installed: {', '.join(sorted(known))}"
    return ""


def _kind_of(value: Any) -> str:
    for name, pytype in (
        ("true/false", bool),
        ("integer", int),
        ("number", float),
        ("string", str),
        ("list", list),
        ("mapping", dict),
    ):
        if isinstance(value, pytype):
            return name
    return "null" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def coerce_from_env(
    schema: dict[str, Any], doc: LocatedDocument, valid: Callable[[Any], bool] | None = None
) -> None:
    """A value written as one whole `${VAR}` is text after interpolation; where the schema wants a
    number or a boolean and the text is one (`interval: "${RETRY_INTERVAL}"`), it becomes that.
    `valid`: the schema's compiled check, when the caller holds one already."""
    if not doc.from_env or (valid or validity(schema))(doc.data):
        return
    from jsonschema import Draft202012Validator

    for error in Draft202012Validator(schema).iter_errors(doc.data):
        for failure in _with_context(error):
            path: JsonPath = tuple(failure.absolute_path)
            if failure.validator != "type" or path not in doc.from_env:
                continue
            expected: Any = failure.validator_value
            wanted: list[str] = expected if isinstance(expected, list) else [str(expected)]
            parent, key = _parent(doc.data, path)
            if parent is None or not isinstance(parent[key], str):
                continue
            parsed = _scalar(parent[key], wanted)
            if parsed is not None:
                parent[key] = parsed


def _with_context(error: ValidationError) -> list[ValidationError]:
    found = [error]
    for child in error.context or []:
        found.extend(_with_context(child))
    return found


def _parent(data: Any, path: JsonPath) -> tuple[Any, Any]:
    if not path:
        return None, None
    node = data
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


def _scalar(text: str, wanted: list[str]) -> bool | int | float | None:
    """The number or boolean the text spells, if the schema accepts that kind; else None."""
    try:
        value = read_scalar(text)
    except (yaml.YAMLError, ValueError):
        return None
    if isinstance(value, bool):
        return value if "boolean" in wanted else None
    if isinstance(value, int):
        return value if {"integer", "number"} & set(wanted) else None
    if isinstance(value, float):
        return value if "number" in wanted else None
    return None
