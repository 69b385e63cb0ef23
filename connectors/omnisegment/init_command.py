"""`omnisync init --source csv|sql|s3 --endpoint NAME`: a commented spec and sample data that
validate as written and run against the embedded sandbox. Brought by the OmniSegment destination
(its endpoints and their fields are its knowledge, not the core's)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connectors.omnisegment.starters import STARTERS, Starter
from engine.lazy import lazy_module

if TYPE_CHECKING:
    import sqlite3
else:
    sqlite3 = lazy_module("sqlite3")  # only `init --source sql` writes a database

_HEADER = """\
# {endpoint} records from {what} into OmniSegment: a starting point written by `omnisync init`.
#   omnisync validate {spec}     check it (no row is read, nothing is sent)
#   omnisync plan {spec}         what the first rows would become
#   omnisync run {spec}          deliver them to the embedded sandbox (a local OmniSegment)
# For production set environment: tw (or your region) and take tid and api_key from the
# environment as below: never write a secret in a spec. Editor completion: see docs/ci.md.
version: 1
omnisegment:
  environment: sandbox                  # production: tw, with the two lines below
  # tid: "${{OMNISEGMENT_TID}}"
  # api_key: "${{OMNISEGMENT_API_KEY}}"
max_reject_ratio: 0.01                  # more than 1% of rows rejected: exit 3, see the reject file
syncs:
  - name: {sync}
    source:
{source}
    destination: {destination}
{extra}\
    mapping:                            # OmniSegment field: source column, or how to make it
{mapping}\
    tests:                              # `omnisync test` checks them; nothing is read or sent
      - name: the first sample row becomes this record
        row: {row}
        expect: {expect}
"""


@click.command(name="init")
@click.option("--source", "source", type=click.Choice(["csv", "sql", "s3"]), required=True)
@click.option("--endpoint", type=click.Choice(sorted(STARTERS)), required=True)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The spec to write (default: <sync>.yaml here); sample data goes to data/ beside it.",
)
@click.option("--force", is_flag=True, help="Overwrite the spec and the sample data.")
def init(source: str, endpoint: str, output: Path | None, force: bool) -> None:
    """Write a commented spec for one endpoint and sample data that runs against the sandbox."""
    starter = STARTERS[endpoint]
    spec = output or Path(f"{starter.sync}.yaml")
    data = spec.parent / "data"
    targets = [spec, data / f"{starter.sync}.csv"] + (
        [data / f"{starter.sync}.db"] if source == "sql" else []
    )
    if not force and (existing := [str(p) for p in targets if p.exists()]):
        raise click.ClickException(f"{', '.join(existing)} exists; --force overwrites")
    data.mkdir(parents=True, exist_ok=True)
    _write_csv(starter, targets[1])
    block, what = _source_block(source, starter, data)
    text = _HEADER.format(
        endpoint=endpoint,
        what=what,
        spec=spec,
        sync=starter.sync,
        source=block,
        destination=starter.destination,
        extra=starter.extra,
        mapping=starter.mapping,
        row=_flow(dict(zip(starter.columns, starter.rows[0], strict=True))),
        expect=starter.expect,
    )
    spec.write_text(text, encoding="utf-8")
    click.echo(f"wrote {spec} and {', '.join(str(p) for p in targets[1:])}")
    if source == "s3":
        click.echo(
            f"upload the sample first: aws s3 cp {targets[1]} "
            f"s3://$OMNISYNC_S3_BUCKET/{starter.sync}/{starter.sync}.csv"
        )
    click.echo(f"next: omnisync validate {spec} && omnisync run {spec}")


def _flow(row: dict[str, str]) -> str:
    """A row as a YAML flow mapping; every value quoted, so `yes` or `0912` stays the text it is."""
    return (
        "{" + ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in row.items()) + "}"
    )


def _write_csv(starter: Starter, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(starter.columns)
        writer.writerows(starter.rows)


def _source_block(source: str, starter: Starter, data: Path) -> tuple[str, str]:
    """The YAML under `source:` and a few words for the header."""
    name = starter.sync
    if source == "csv":
        return (
            f"      csv: {{path: data/{name}.csv}}          # relative to this file",
            "a CSV file",
        )
    if source == "sql":
        database = data / f"{name}.db"
        _write_sqlite(starter, database)
        relative = os.path.relpath(database, Path.cwd())
        return (
            "      sql:\n"
            "        # a SQLAlchemy URL, from the environment in production (its password is a\n"
            "        # secret): postgresql+psycopg://user@host/db. The sample is a SQLite file;\n"
            "        # a relative SQLite path is read from the directory omnisync runs in.\n"
            f'        url: "${{OMNISYNC_SQL_URL:-sqlite:///{relative}}}"\n'
            f"        table: {name}                  # or query: SELECT ... with :params",
            "a SQL table",
        )
    return (
        "      s3:\n"
        "        # every object under the prefix, in key order; credentials and the endpoint\n"
        "        # come from the usual AWS variables (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...)\n"
        f'        url: "s3://${{OMNISYNC_S3_BUCKET:-omnisync-starter}}/{name}/"\n'
        "        format: csv\n"
        '        region: "${AWS_REGION:-us-east-1}"',
        "CSV objects in S3",
    )


def _write_sqlite(starter: Starter, path: Path) -> None:
    """The sample rows as a table whose first column is the primary key (the resume order)."""
    path.unlink(missing_ok=True)
    columns = ", ".join(
        f'"{c}" TEXT' + (" PRIMARY KEY" if i == 0 and _unique_first(starter) else "")
        for i, c in enumerate(starter.columns)
    )
    with sqlite3.connect(path) as db:
        db.execute(f'CREATE TABLE "{starter.sync}" ({columns})')
        marks = ", ".join("?" for _ in starter.columns)
        db.executemany(f'INSERT INTO "{starter.sync}" VALUES ({marks})', starter.rows)
    db.close()


def _unique_first(starter: Starter) -> bool:
    firsts = [row[0] for row in starter.rows]
    return len(set(firsts)) == len(firsts)
