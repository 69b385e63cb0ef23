"""A thin, conditional view of one S3 prefix: what the S3 state backend builds on.

Writes are conditional (If-None-Match: * to create, If-Match: <etag> to replace), so two writers
can never overwrite each other unseen: a lost race raises Conflict. boto3 is imported only here,
only when the S3 backend is used.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import IO, Any

from engine.state.base import StateError

_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


class Conflict(StateError):
    """A conditional write lost: someone else wrote the object since we read it."""


class Objects:
    def __init__(self, bucket: str, prefix: str, client_args: Mapping[str, Any]) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        config = Config(retries={"max_attempts": 5, "mode": "standard"})
        args = {k: v for k, v in client_args.items() if v is not None}
        self.client = boto3.session.Session().client("s3", config=config, **args)

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(urllib.parse.quote(part, safe="") for part in parts)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def get(self, key: str) -> tuple[bytes, str] | None:
        """(body, etag), or None when there is no such object."""
        try:
            answer = self._call("get_object", Bucket=self.bucket, Key=key)
        except _Missing:
            return None
        return answer["Body"].read(), str(answer["ETag"])

    def get_stamped(self, key: str) -> tuple[bytes, str, float, float | None] | None:
        """(body, etag, when it was last written, the store's time now), both in the store's
        clock (seconds since the epoch; `now` None when the answer has no Date), or None."""
        try:
            answer = self._call("get_object", Bucket=self.bucket, Key=key)
        except _Missing:
            return None
        body, written = answer["Body"].read(), answer["LastModified"].timestamp()
        date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        from email.utils import parsedate_to_datetime  # here: loading the plugin must stay cheap

        try:
            now = parsedate_to_datetime(date).timestamp() if date else None
        except (TypeError, ValueError):
            now = None
        return body, str(answer["ETag"]), written, now

    def stream(self, key: str) -> tuple[IO[bytes], str] | None:
        """(streaming body, etag), or None when there is no such object."""
        try:
            answer = self._call("get_object", Bucket=self.bucket, Key=key)
        except _Missing:
            return None
        body: IO[bytes] = answer["Body"]
        return body, str(answer["ETag"])

    def put(self, key: str, body: bytes | IO[bytes], etag: str | None = None) -> str:
        """Create (etag None) or replace the version `etag`; the new etag. Conflict otherwise."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            answer = self._call("put_object", Bucket=self.bucket, Key=key, Body=body, **condition)
        except _Missing:  # If-Match on an object deleted meanwhile
            raise self._conflict(key) from None
        return str(answer["ETag"])

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete; with `etag`, only that version (Conflict otherwise). Absent is fine."""
        condition = {"IfMatch": etag} if etag else {}
        try:
            self._call("delete_object", Bucket=self.bucket, Key=key, **condition)
        except _Missing:
            if etag:
                raise self._conflict(key) from None

    def listing(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])
        except Exception as exc:
            raise self._error("list", exc) from None

    def _call(self, operation: str, **args: Any) -> Any:
        try:
            return getattr(self.client, operation)(**args)
        except Exception as exc:
            code = _code(exc)
            if code in _MISSING:
                raise _Missing from None
            if code in _CONFLICT:
                raise self._conflict(str(args.get("Key"))) from None
            raise self._error(operation, exc) from None

    def _conflict(self, key: str) -> Conflict:
        return Conflict(f"state store {self.describe()}: {key} was changed by another run")

    def _error(self, operation: str, exc: Exception) -> StateError:
        return StateError(f"state store {self.describe()}: {operation} failed: {exc}")

    def close(self) -> None:
        self.client.close()


class _Missing(Exception):
    pass


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    return ""
