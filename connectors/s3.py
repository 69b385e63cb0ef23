"""Objects in S3 (or an S3-compatible store) under a prefix, matched by a glob, streamed.

boto3 in a thread rather than aiobotocore: the format readers (csv module, gzip, pyarrow) are
synchronous and pull from a file object. boto3's streaming body is one, so a CSV or JSON Lines
object flows through gzip and the csv module in 1 MiB reads, and Parquet is read with ranged GETs
(footer, then one row group at a time) through a seekable file object. aiobotocore would need a
bridge from async reads back to those same synchronous readers, for no gain: the whole read runs
in one thread, a chunk of rows per hop, and the event loop stays free.

Position: (key, number) in key order, or (last_modified, key, number) with `order: last_modified`
(last_modified as ISO 8601 UTC). A resumed read skips objects before the stored one and the
records of that object up to the stored number.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import re
from collections.abc import AsyncIterator, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from connectors._threaded import iterate_in_thread
from connectors.readers import (
    CSV_OPTIONS_SCHEMA,
    FORMATS,
    CsvOptions,
    FormatError,
    buffered,
    format_of,
    read_records,
)
from engine.contracts import SourceContext
from engine.errors import OmnisyncError
from engine.lazy import lazy_module
from engine.logging import register_secrets
from engine.records import Position, Row

if TYPE_CHECKING:
    import boto3
    import botocore.config as botocore_config
    import botocore.exceptions as botocore_errors
else:  # boto3 is imported when a spec reads from S3, not when the CLI starts
    boto3 = lazy_module("boto3")
    botocore_config = lazy_module("botocore.config")
    botocore_errors = lazy_module("botocore.exceptions")

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

_URL = re.compile(r"^s3://([^/]+)/?(.*)$")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class S3Object:
    """What a listing says of one object: enough to order, filter and range-read it."""

    key: str
    size: int
    last_modified: str  # ISO 8601, UTC


class S3Source:
    """Objects under an S3 prefix (optionally a glob), read in key or last-modified order."""

    cursors: ClassVar[frozenset[str]] = frozenset({"last_modified"})  # new or rewritten objects
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^s3://[^/]+",
                "description": "s3://bucket/prefix/ or s3://bucket/exports/members-*.csv.gz",
            },
            "format": {"enum": list(FORMATS), "description": "default: from each key's suffix"},
            "order": {"enum": ["key", "last_modified"], "description": "default: key"},
            "region": {"type": "string", "minLength": 1},
            "endpoint_url": {"type": "string", "minLength": 1},
            "access_key_id": {"type": "string", "minLength": 1, "writeOnly": True},
            "secret_access_key": {"type": "string", "minLength": 1, "writeOnly": True},
            "session_token": {"type": "string", "minLength": 1, "writeOnly": True},
            **CSV_OPTIONS_SCHEMA,
        },
        "dependentRequired": {
            "access_key_id": ["secret_access_key"],
            "secret_access_key": ["access_key_id"],
        },
        "additionalProperties": False,
    }

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        match = _URL.match(str(config["url"]))
        if match is None:
            raise OmnisyncError(f"{context.sync_name}: s3 url must look like s3://bucket/prefix/")
        self.bucket, path = match.group(1), match.group(2)
        glob = _GLOB.search(path)
        self.prefix = path[: glob.start()] if glob else path
        self.pattern = path if glob else None
        self.format: str | None = config.get("format")
        self.order = config.get("order") or (
            "last_modified" if context.cursor == "last_modified" else "key"
        )
        self.options = CsvOptions.from_config(config)
        self.client_args = {
            "region_name": config.get("region"),
            "endpoint_url": config.get("endpoint_url"),
            "aws_access_key_id": config.get("access_key_id"),
            "aws_secret_access_key": config.get("secret_access_key"),
            "aws_session_token": config.get("session_token"),
        }
        register_secrets(
            str(config[k])
            for k in ("access_key_id", "secret_access_key", "session_token")
            if config.get(k)
        )
        self.sync = context.sync_name

    def locate(self, position: Position) -> str:
        """Where a position points: s3://bucket/key:number."""
        key, number = position[-2], position[-1]
        return f"s3://{self.bucket}/{key}:{number}"

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Rows after `resume`, read with boto3 in a thread so the event loop stays free."""
        return iterate_in_thread(lambda: self._rows(resume))

    def _client(self) -> S3Client:
        args = {k: v for k, v in self.client_args.items() if v is not None}
        config = botocore_config.Config(retries={"max_attempts": 5, "mode": "standard"})
        return boto3.session.Session().client("s3", config=config, **args)

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        client = self._client()
        try:
            for obj in self._objects(client):
                place = self._place(obj)
                if resume is not None and place < tuple(resume[:-1]):
                    continue
                skip_to = (
                    int(resume[-1]) if resume is not None and place == tuple(resume[:-1]) else 0
                )
                for number, values, error in self._records(client, obj, skip_to):
                    yield Row(values, (*place, number), error)
        except (botocore_errors.BotoCoreError, botocore_errors.ClientError) as exc:
            raise OmnisyncError(f"{self.sync}: s3://{self.bucket}/{self.prefix}: {exc}") from None
        finally:
            client.close()

    def _place(self, obj: S3Object) -> tuple[str, ...]:
        return (obj.last_modified, obj.key) if self.order == "last_modified" else (obj.key,)

    def _objects(self, client: S3Client) -> list[S3Object]:
        """Listed in key order by S3 itself; sorted by (last_modified, key) when asked."""
        objects = []
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/") or (
                    self.pattern and not fnmatch.fnmatchcase(key, self.pattern)
                ):
                    continue
                modified = item["LastModified"].astimezone(dt.UTC).isoformat()
                objects.append(S3Object(key, int(item["Size"]), modified))
        if self.order == "last_modified":
            objects.sort(key=lambda o: (o.last_modified, o.key))
        return objects

    def _records(
        self, client: S3Client, obj: S3Object, skip_to: int
    ) -> Generator[tuple[int, dict[str, Any] | None, str | None], None, None]:
        fmt = format_of(obj.key, self.format)
        if fmt == "parquet":
            stream: io.BufferedReader = buffered(RangedObject(client, self.bucket, obj))
        else:
            body = client.get_object(Bucket=self.bucket, Key=obj.key)["Body"]
            stream = buffered(StreamingRaw(body))
        with stream:
            try:
                yield from read_records(fmt, stream, obj.key, self.options, skip_to)
            except FormatError as exc:
                raise FormatError(f"s3://{self.bucket}/{obj.key}: {exc}") from None
            except (OSError, EOFError) as exc:
                raise OmnisyncError(
                    f"s3://{self.bucket}/{obj.key}: cannot be read ({exc})"
                ) from None


class StreamingRaw(io.RawIOBase):
    """A GET's body as a raw stream, so io.BufferedReader gives lines without holding the object."""

    def __init__(self, body: StreamingBody) -> None:
        self.body = body

    def readable(self) -> bool:
        """Yes: io.BufferedReader asks before reading."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the body; 0 at its end."""
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the GET's body with the stream, so its connection is not left open."""
        if not self.closed:
            self.body.close()
        super().close()


class RangedObject(io.RawIOBase):
    """A seekable object read by ranged GETs: pyarrow reads the footer, then the row groups it needs."""

    def __init__(self, client: S3Client, bucket: str, obj: S3Object) -> None:
        self.client, self.bucket, self.key, self.size = client, bucket, obj.key, obj.size
        self.offset = 0

    def readable(self) -> bool:
        """Yes: io.BufferedReader asks before reading."""
        return True

    def seekable(self) -> bool:
        """Yes: pyarrow seeks to the footer, then to each row group it reads."""
        return True

    def tell(self) -> int:
        """The offset the next read starts from."""
        return self.offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the offset; nothing is fetched until the next read."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.offset, io.SEEK_END: self.size}[whence]
        self.offset = max(0, base + offset)
        return self.offset

    def readinto(self, buffer: Any) -> int:
        """One ranged GET of `buffer`'s length from the offset; 0 past the end."""
        if self.offset >= self.size or not len(buffer):
            return 0
        end = min(self.size, self.offset + len(buffer)) - 1
        answer = self.client.get_object(
            Bucket=self.bucket, Key=self.key, Range=f"bytes={self.offset}-{end}"
        )
        with answer["Body"] as body:
            data = body.read()
        buffer[: len(data)] = data
        self.offset += len(data)
        return len(data)
