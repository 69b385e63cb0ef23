"""Spec text and rows for runs against the test sandbox, written once for every test file.

A spec for the sandbox starts with the connection whose ${...} references the `sandbox_env`
fixture fills; most tests then run one sync, `members`, read from members.csv. A test writes only
the part it is about (its destination, delivery, mapping) and keeps that part literal.
"""

from __future__ import annotations

import csv
from pathlib import Path

API_KEY_FROM_ENV = "${OMNISEGMENT_API_KEY}"

MEMBERS_FROM_CSV = """\
  - name: members
    source: {csv: {path: members.csv}}
"""


def sandbox_spec(*syncs: str, top: str = "", api_key: str = API_KEY_FROM_ENV) -> str:
    """A whole spec for the sandbox: its connection, `top` (more top-level lines), then `syncs:`
    with each sync's text (each starts `  - name: ...`)."""
    return (
        "version: 1\n"
        "omnisegment:\n"
        "  base_url: ${SANDBOX_URL}\n"
        "  tid: ${OMNISEGMENT_TID}\n"
        f"  api_key: {api_key}\n"
        f"{top}syncs:\n" + "".join(syncs)
    )


def members_spec(sync: str, top: str = "", api_key: str = API_KEY_FROM_ENV) -> str:
    """A spec for the sandbox whose one sync is `members` from members.csv; `sync` holds the rest
    of that sync (destination, delivery, mapping, ...), indented by 4."""
    return sandbox_spec(MEMBERS_FROM_CSV + sync, top=top, api_key=api_key)


DELIVERY_SPEC = """\
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    delivery: {delivery}
    mapping:
      member_sn: id
      name: name
      email: email
"""


def write_spec(
    directory: Path,
    delivery: str = "{rate_limit: 1000/s}",
    api_key: str = API_KEY_FROM_ENV,
    top: str = "",
) -> Path:
    """sync.yaml in `directory`: members.csv (id, name, email) to audiences by member_sn, with the
    given `delivery` block; `top` is top-level lines without their last newline."""
    spec = directory / "sync.yaml"
    text = members_spec(DELIVERY_SPEC.format(delivery=delivery), top=f"{top}\n", api_key=api_key)
    spec.write_text(text, encoding="utf-8")
    return spec


def write_rows(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A CSV with the header id,name,email and `rows` under it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email"])
        writer.writerows(rows)


def members(count: int) -> list[tuple[str, str, str]]:
    """`count` distinct valid members: (M000000, member 0, m0@example.com), ..."""
    return [(f"M{i:06d}", f"member {i}", f"m{i}@example.com") for i in range(count)]
