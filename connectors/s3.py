"""Objects in S3 (or an S3-compatible store) under a prefix, matched by a glob, streamed.

boto3 in a thread rather than aiobotocore: the format readers (csv module, gzip, pyarrow) are
synchronous and pull from a file object. boto3's streaming body is one, so a CSV or JSON Lines
object flows through gzip and the csv module in 1 MiB reads, and Parquet is read with ranged GETs
(footer, then one row group at a time) through a seekable file object. aiobotocore would need a
bridge from async reads back to those same synchronous readers, for no gain: the whole read runs
in one thread, a chunk of rows per hop, and the event loop stays free.

Position: (key, number, etag) in key order, or (last_modified, key, number, etag) with
`order: last_modified` (last_modified as ISO 8601 UTC). A resumed read skips objects before the
stored one and the records of that object up to the stored number; when that object was replaced
(another ETag) every object is read again from the beginning, with a note.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import re
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.csv_options import CSV_OPTIONS_SCHEMA, FORMATS, CsvOptions
from engine import logging as omnilog
from engine.contracts import SourceContext
from engine.errors import OmnisyncError, SourceSettingError
from engine.lazy import lazy_module

if TYPE_CHECKING:
    from connectors import _threaded, readers
else:  # when the source first reads: checking a spec needs only the schema
    _threaded = lazy_module("connectors._threaded")
    readers = lazy_module("connectors.readers")
from engine.logging import register_secrets
from engine.rows import Position, Row

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

log = omnilog.get_logger("omnisync.s3")

_URL = re.compile(r"^s3://([^/]+)/?(.*)$")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class S3Object:
    """What a listing says of one object: enough to order, filter and range-read it."""

    key: str
    size: int
    last_modified: str  # ISO 8601, UTC
    etag: str = ""  # the object's identity: another upload under the same key has another


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
        self.notes: list[str] = []  # for the run report: what the reading changed or found

    def locate(self, position: Position) -> str:
        """Where a position points: s3://bucket/key:number."""
        at = 1 if self.order == "key" else 2  # where the line number sits, after the place
        key, number = position[at - 1], position[at]
        return f"s3://{self.bucket}/{key}:{number}"

    def estimate_total(self) -> int | None:
        """Rows in every object, from the listed sizes and the lines in the first object's first
        64 KiB (text formats, uncompressed); None for gzip and Parquet or when S3 will not say."""
        client = self._client()
        try:
            objects = self._objects(client)
            if not objects or any(
                obj.key.endswith(".gz") or readers.format_of(obj.key, self.format) == "parquet"
                for obj in objects
            ):
                return None
            first = objects[0]
            sample = client.get_object(
                Bucket=self.bucket, Key=first.key, Range=f"bytes=0-{_SAMPLE - 1}"
            )["Body"].read()
        except (botocore_errors.BotoCoreError, botocore_errors.ClientError, OmnisyncError):
            return None  # the read reports real errors
        finally:
            client.close()
        lines = sample.count(b"\n")
        if not lines:
            return None
        size = sum(obj.size for obj in objects)
        header = len(objects) if readers.format_of(first.key, self.format) == "csv" else 0
        return max(0, round(size * lines / len(sample)) - header)

    def columns(self) -> list[tuple[str, list[str]]]:
        """The first object's columns (header, schema or first objects' keys): one GET, not one per object."""
        client = self._client()
        try:
            for obj in self._objects(client)[:1]:
                with self._stream(client, obj) as stream:
                    where = f"s3://{self.bucket}/{obj.key}"
                    try:
                        fmt = readers.format_of(obj.key, self.format)
                        columns = readers.columns_of(fmt, stream, obj.key, self.options)
                        return [(where, columns)] if columns is not None else []
                    except SourceSettingError as exc:
                        raise exc.within(where) from None
                    except readers.FormatError as exc:
                        raise readers.FormatError(f"{where}: {exc}") from None
                    except (OSError, EOFError) as exc:
                        raise OmnisyncError(f"{where}: cannot be read ({exc})") from None
            return []
        except (botocore_errors.BotoCoreError, botocore_errors.ClientError) as exc:
            raise OmnisyncError(f"{self.sync}: s3://{self.bucket}/{self.prefix}: {exc}") from None
        finally:
            client.close()

    def read(self, resume: Position | None) -> AsyncIterator[Row]:
        """Rows after `resume`, read with boto3 in a thread so the event loop stays free."""
        return _threaded.iterate_in_thread(lambda: self._rows(resume))

    def _client(self) -> S3Client:
        args = {k: v for k, v in self.client_args.items() if v is not None}
        config = botocore_config.Config(retries={"max_attempts": 5, "mode": "standard"})
        return boto3.session.Session().client("s3", config=config, **args)

    def _rows(self, resume: Position | None) -> Generator[Row, None, None]:
        client = self._client()
        try:
            objects = self._objects(client)
            resume = self._checked(objects, resume)
            width = 1 if self.order == "key" else 2
            after = tuple(resume[:width]) if resume is not None else None
            for obj in objects:
                place = self._place(obj)
                if after is not None and place < after:
                    continue
                skip_to = int(resume[width]) if resume is not None and place == after else 0
                for number, values, error in self._records(client, obj, skip_to):
                    yield Row(values, (*place, number, obj.etag), error)
        except (botocore_errors.BotoCoreError, botocore_errors.ClientError) as exc:
            raise OmnisyncError(f"{self.sync}: s3://{self.bucket}/{self.prefix}: {exc}") from None
        finally:
            client.close()

    def changed_since(self, position: Position) -> str | None:
        """Why the object `position` was counted in is not that object any more (ChecksResume):
        one HEAD for its ETag. The read compares the listing again (and the modification time)."""
        width = 1 if self.order == "key" else 2
        if len(position) < width + 2:  # stored before positions held the ETag
            return None
        key, etag = str(position[width - 1]), position[width + 1]
        where = f"s3://{self.bucket}/{key}"
        client = self._client()
        try:
            found = str(client.head_object(Bucket=self.bucket, Key=key).get("ETag", "")).strip('"')
        except botocore_errors.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise OmnisyncError(f"{self.sync}: {where}: {exc}") from None
            found = None
        except botocore_errors.BotoCoreError as exc:
            raise OmnisyncError(f"{self.sync}: {where}: {exc}") from None
        finally:
            client.close()
        if found == etag:
            return None
        why = "it is gone" if found is None else "another ETag"
        return f"{where} changed since the stored position ({why})"

    def _checked(self, objects: list[S3Object], resume: Position | None) -> Position | None:
        """The resume position, or None when its object was replaced since (another ETag)."""
        width = 1 if self.order == "key" else 2
        if resume is None or len(resume) < width + 2:  # stored before positions held the ETag
            return resume
        place, etag = tuple(resume[:width]), resume[width + 1]
        same = [o for o in objects if self._place(o) == place and o.etag == etag]
        if same:
            return resume
        where = f"s3://{self.bucket}/{resume[width - 1]}"
        self._noter(where)(
            "changed since the stored position (another ETag, or gone): "
            "reading every object from the beginning"
        )
        return None

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
                etag = str(item.get("ETag", "")).strip('"')
                objects.append(S3Object(key, int(item["Size"]), modified, etag))
        if self.order == "last_modified":
            objects.sort(key=lambda o: (o.last_modified, o.key))
        return objects

    def _records(
        self, client: S3Client, obj: S3Object, skip_to: int
    ) -> Generator[tuple[int, dict[str, Any] | None, str | None], None, None]:
        fmt = readers.format_of(obj.key, self.format)
        where = f"s3://{self.bucket}/{obj.key}"
        number = skip_to
        with self._stream(client, obj) as stream:
            try:
                for record in readers.read_records(
                    fmt, stream, obj.key, self.options, skip_to, self._noter(where)
                ):
                    number = record[0]
                    yield record
            except SourceSettingError as exc:
                raise exc.within(where) from None
            except readers.FormatError as exc:
                raise readers.FormatError(f"{where}: {exc}") from None
            except (OSError, EOFError) as exc:  # a gzip stream cut short: the rest is missing
                yield number + 1, None, f"{where}: cannot be read past record {number} ({exc})"

    def _noter(self, where: str) -> Callable[[str], None]:
        def note(text: str) -> None:
            log.warning("source_note", message=f"{where}: {text}")
            self.notes.append(f"{where}: {text}")

        return note

    def _stream(self, client: Any, obj: S3Object) -> io.BufferedReader:
        """Parquet through ranged GETs (footer first), anything else as one streamed GET."""
        if readers.format_of(obj.key, self.format) == "parquet":
            return readers.buffered(RangedObject(client, self.bucket, obj))
        body = client.get_object(Bucket=self.bucket, Key=obj.key)["Body"]
        return readers.buffered(StreamingRaw(body))


_SAMPLE = 65536


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
