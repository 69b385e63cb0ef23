"""The ledger on S3: one object a run, one object a written batch, under `history/` of the prefix.

`history/runs/<spec>/<run>.json` holds the run; `history/entries/<sync>/<run>/<n>` one batch:
a small JSON header (the single rows and each bulk blob's action and length) then the blobs. Each
object is created once (If-None-Match), a run's end replaces its run object. `find` reads every
batch of the sync: fine for an operator's question, not a hot path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence

from engine.state.ledger import RunRecord, Seen, Single, find_in_blob
from engine.state.s3_objects import Objects


class S3Ledger:
    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self._etags: dict[str, str] = {}
        self._written: dict[tuple[str, str], int] = {}  # (run, sync) -> batches written

    def _run_key(self, spec: str, run_id: str) -> str:
        return self.objects.key("history", "runs", spec, run_id) + ".json"

    def begin_run(self, run: RunRecord) -> None:
        key = self._run_key(run.spec, run.run_id)
        self._etags[key] = self.objects.put(key, _run_body(run))

    def end_run(self, run: RunRecord) -> None:
        key = self._run_key(run.spec, run.run_id)
        self._etags[key] = self.objects.put(key, _run_body(run), self._etags.get(key))

    def write(
        self, run_id: str, sync_key: str, bulk: Mapping[str, bytes], rows: Sequence[Single]
    ) -> None:
        number = self._written.get((run_id, sync_key), 0)
        self._written[run_id, sync_key] = number + 1
        header = {
            "rows": [[r.action, _b64(r.key), r.shown, r.reason] for r in rows],
            "bulk": [[action, len(body)] for action, body in bulk.items()],
        }
        head = json.dumps(header).encode()
        body = len(head).to_bytes(4, "big") + head + b"".join(bulk.values())
        self.objects.put(self._batch_prefix(sync_key, run_id) + f"{number:08d}", body)

    def _batch_prefix(self, sync_key: str, run_id: str) -> str:
        return self.objects.key("history", "entries", sync_key, run_id) + "/"

    def runs(self, spec: str, limit: int | None = None) -> list[RunRecord]:
        prefix = self.objects.key("history", "runs", spec) + "/"
        found = []
        for key in self.objects.listing(prefix):
            got = self.objects.get(key)
            if got is not None:
                data = json.loads(got[0])
                found.append(RunRecord(**data))
        found.sort(key=lambda run: (run.started, run.run_id), reverse=True)
        return found[:limit] if limit is not None else found

    def _batches(
        self, prefix: str
    ) -> Iterator[tuple[str, list[list[object]], list[tuple[str, bytes]]]]:
        """(run id, single rows, bulk blobs) of each batch under `prefix`."""
        for key in self.objects.listing(prefix):
            got = self.objects.get(key)
            if got is None:
                continue
            run_id = key[len(prefix) :].split("/")[0]
            body = got[0]
            size = int.from_bytes(body[:4], "big")
            header = json.loads(body[4 : 4 + size])
            blobs, at = [], 4 + size
            for action, length in header["bulk"]:
                blobs.append((str(action), body[at : at + length]))
                at += length
            yield run_id, header["rows"], blobs

    def find(self, sync_key: str, key: bytes) -> list[Seen]:
        wanted = _b64(key)
        found: list[Seen] = []
        prefix = self.objects.key("history", "entries", sync_key) + "/"
        for run_id, rows, blobs in self._batches(prefix):
            for action, hashed, shown, reason in rows:
                if hashed == wanted:
                    found.append(Seen(run_id, str(action), None, _str(shown), _str(reason)))
            for action, blob in blobs:
                digest = find_in_blob(blob, key)
                if digest is not None:
                    found.append(Seen(run_id, action, digest))
        return found

    def bulk(self, sync_key: str, run_ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        for run_id in run_ids:
            for _, _, blobs in self._batches(self._batch_prefix(sync_key, run_id)):
                yield from blobs

    def prune(self, spec: str, before: str) -> int:
        old = [run for run in self.runs(spec) if run.started < before]
        for run in old:
            for sync_key in run.syncs:
                prefix = self._batch_prefix(f"{spec}:{sync_key}", run.run_id)
                for key in list(self.objects.listing(prefix)):
                    self.objects.delete(key)
            self.objects.delete(self._run_key(spec, run.run_id))
        return len(old)


def _run_body(run: RunRecord) -> bytes:
    return json.dumps(
        {
            "run_id": run.run_id,
            "spec": run.spec,
            "started": run.started,
            "ended": run.ended,
            "exit_code": run.exit_code,
            "commit": run.commit,
            "ci_url": run.ci_url,
            "syncs": run.syncs,
            "kind": run.kind,
        }
    ).encode()


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


def _str(value: object) -> str | None:
    return None if value is None else str(value)
