"""A dbt model named by a sql source (`dbt: {ref: customers}`), found in the dbt project's
`manifest.json` (schema v12; any version that keeps `nodes` with `resource_type`, `name`,
`package_name`, `database`, `schema` and `alias`): the relation the model was built as.

The spec then follows the model wherever dbt puts it (a renamed alias, another schema per target)
without naming the table twice. The manifest is read once per file and change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import SpecIssue
from engine.suggest import suggest

DEFAULT_MANIFEST = "target/manifest.json"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ref"],
    "properties": {
        "ref": {"type": "string", "minLength": 1, "description": "the dbt model's name"},
        "package": {
            "type": "string",
            "minLength": 1,
            "description": "the dbt project or package that defines it, when two define the name",
        },
        "manifest": {
            "type": "string",
            "minLength": 1,
            "description": f"dbt's manifest.json, relative to the spec (default {DEFAULT_MANIFEST})",
        },
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Relation:
    database: str | None
    schema: str | None
    alias: str

    @property
    def table(self) -> str:
        """`schema.alias`, as the sql source's `table:` takes it (the URL names the database)."""
        return f"{self.schema}.{self.alias}" if self.schema else self.alias


class DbtModelError(Exception):
    """The manifest or the model is missing; `key` is the block's key the message is about."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def manifest_path(block: Mapping[str, Any], spec_dir: Path) -> Path:
    return spec_dir / str(block.get("manifest") or DEFAULT_MANIFEST)


def resolve(block: Mapping[str, Any], spec_dir: Path) -> Relation:
    """The relation of the model `block` names, or DbtModelError saying what is missing."""
    written = str(block.get("manifest") or DEFAULT_MANIFEST)
    models = _models(manifest_path(block, spec_dir), written)
    ref, package = str(block["ref"]), block.get("package")
    found = [m for m in models if m["name"] == ref and package in (None, m.get("package_name"))]
    if not found:
        hint = suggest(ref, {str(m["name"]) for m in models})
        within = f" of package {package}" if package else ""
        raise DbtModelError("ref", f"no dbt model '{ref}'{within} in {written}{hint}")
    if len(found) > 1:
        packages = ", ".join(sorted(str(m.get("package_name")) for m in found))
        raise DbtModelError("ref", f"dbt model '{ref}' is defined in {packages}: add `package:`")
    node = found[0]
    alias = node.get("alias") or node["name"]
    return Relation(node.get("database"), node.get("schema"), str(alias))


def issues(block: Mapping[str, Any], path: tuple[str, ...], spec_dir: Path) -> list[SpecIssue]:
    """validate's view of `resolve`: the missing manifest or model at its key."""
    try:
        resolve(block, spec_dir)
    except DbtModelError as exc:
        return [SpecIssue((*path, exc.key) if exc.key in block else path, str(exc))]
    return []


_CACHE: dict[Path, tuple[float, list[dict[str, Any]]]] = {}


def _models(path: Path, written: str) -> list[dict[str, Any]]:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise DbtModelError(
            "manifest",
            f"dbt manifest {written} not found (`dbt parse` or `dbt run` writes it in the "
            "project's target/)",
        ) from None
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DbtModelError("manifest", f"dbt manifest {written} cannot be read: {exc}") from None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, dict):
        raise DbtModelError("manifest", f"{written} is not a dbt manifest (no `nodes`)")
    models = [
        n for n in nodes.values() if isinstance(n, dict) and n.get("resource_type") == "model"
    ]
    _CACHE[path] = (mtime, models)
    return models
