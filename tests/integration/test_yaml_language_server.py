"""The published schema as an editor uses it: the YAML language server itself (the one behind VS
Code's YAML extension), driven over stdio by a small LSP client, flags a wrong option or field of
the sync's endpoint and completes its mapping keys.

The server is installed from npm into pytest's cache once (`npm install yaml-language-server`);
without node, npm or the registry the test is skipped and says why.
"""

from __future__ import annotations

import json
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import ROOT

SCHEMA = ROOT / "schema" / "omnisync.schema.json"
SETTINGS = {
    "validate": True,
    "completion": True,
    "hover": True,
    "schemaStore": {"enable": False},  # no catalogue from the network: the modeline names ours
}
SPEC = f"""\
# yaml-language-server: $schema={SCHEMA.as_uri()}
version: 1
omnisegment: {{environment: sandbox}}
syncs:
  - name: members
    source: {{csv: {{path: members.csv}}}}
    destination:
      endpoint: audience
      options: {{merge_key: member_id, tag_mode: merge}}
    mapping:
      member_sn: id
      emial: email
  - name: vouchers
    source: {{csv: {{path: vouchers.csv}}}}
    destination: {{endpoint: gift_voucher}}
    mapping:
      voucher_id: id
      member_sn: member
      voucher_type: type
      amount: amount
      valid_from: start
      valid_until: end
"""


@pytest.fixture(scope="module")
def server_script(request: pytest.FixtureRequest) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the YAML language server")
    where = Path(request.config.cache.mkdir("yaml-language-server"))
    script = where / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if not script.exists():
        done = subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(where),
                "yaml-language-server",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0 or not script.exists():
            pytest.skip(f"yaml-language-server did not install from npm: {done.stderr[-300:]}")
    return script


class _Client:
    """Just enough of LSP: framed JSON-RPC, answers to the server's own requests."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []

    @property
    def _in(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self._in.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._in.flush()

    def _read(self, deadline: float) -> dict[str, Any]:
        """One framed message; the stream is unbuffered, so select() sees every byte waiting."""
        length = 0
        while (header := self._line(deadline)) != b"":
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        message: dict[str, Any] = json.loads(self._exactly(length, deadline))
        return message

    def _line(self, deadline: float) -> bytes:
        line = b""
        while not line.endswith(b"\r\n"):
            line += self._exactly(1, deadline)
        return line.strip()

    def _exactly(self, count: int, deadline: float) -> bytes:
        out = self.process.stdout
        assert out is not None
        data = b""
        while len(data) < count:
            ready, _, _ = select.select([out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError("the language server did not answer in time")
            chunk = out.read(count - len(data))
            if not chunk:
                raise AssertionError("the language server ended")
            data += chunk
        return data

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        wanted = self.next_id
        self.send({"id": wanted, "method": method, "params": params})
        return self.until(lambda m: m.get("id") == wanted and "method" not in m)["result"]

    def until(self, match: Any, limit: float = 30) -> dict[str, Any]:
        """The first message that matches; the server's requests are answered meanwhile."""
        deadline = time.monotonic() + limit  # a guard against a hang, not a timing assertion
        while time.monotonic() < deadline:
            message = self._read(deadline)
            if "method" in message and "id" in message:  # the server asks something
                self.send({"id": message["id"], "result": self._answer(message)})
                continue
            if "method" in message:
                self.notifications.append(message)
            if match(message):
                return message
        raise AssertionError("the language server did not answer")

    @staticmethod
    def _answer(message: dict[str, Any]) -> Any:
        if message["method"] == "workspace/configuration":
            return [SETTINGS for _ in message["params"]["items"]]
        return None


@pytest.fixture
def client(server_script: Path) -> Iterator[_Client]:
    process = subprocess.Popen(
        ["node", str(server_script), "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        bufsize=0,
    )
    lsp = _Client(process)
    capabilities = {
        "textDocument": {"completion": {"completionItem": {"snippetSupport": False}}},
        "workspace": {"configuration": True},
    }
    lsp.request(
        "initialize",
        {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": capabilities},
    )
    lsp.send({"method": "initialized", "params": {}})
    lsp.send(
        {"method": "workspace/didChangeConfiguration", "params": {"settings": {"yaml": SETTINGS}}}
    )
    try:
        yield lsp
    finally:
        process.kill()
        process.wait(timeout=30)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _open(lsp: _Client, uri: str, text: str) -> None:
    document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
    lsp.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})


def test_the_language_server_flags_what_the_endpoint_does_not_take(
    client: _Client, tmp_path: Path
) -> None:
    uri = (tmp_path / "sync.yaml").as_uri()
    _open(client, uri, SPEC)

    published = client.until(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"]["diagnostics"]
        )
    )

    lines = SPEC.splitlines()
    flagged = {
        re.findall(r"\w+", lines[d["range"]["start"]["line"]][d["range"]["start"]["character"] :])[
            0
        ]
        for d in published["params"]["diagnostics"]
    }
    # the values of merge_key and tag_mode, and the two keys no endpoint field carries
    assert {"member_id", "merge", "emial", "valid_until"} <= flagged, published


def test_the_language_server_completes_the_endpoint_s_mapping_keys(
    client: _Client, tmp_path: Path
) -> None:
    text = SPEC.replace("      emial: email\n", "      \n")
    uri = (tmp_path / "complete.yaml").as_uri()
    _open(client, uri, text)
    line = text.splitlines().index("      ")

    result = client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": 6}},
    )

    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"] for item in items}
    assert {"email", "phone", "birthday", "tags"} <= labels, sorted(labels)
    email = next(item for item in items if item["label"] == "email")
    assert "audience field" in json.dumps(email, ensure_ascii=False)  # the description, too
