"""The sandbox says how to reach it and how to check what arrived, and those routes answer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

from tests.conftest import ROOT


def test_omnisync_sandbox_prints_its_key_and_inspection_routes() -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-c",
            "from engine.cli import main; main()",
            "sandbox",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            lines = [process.stdout.readline() for _ in range(5)]
            url = re.match(r"sandbox listening on (http://127\.0\.0\.1:\d+) ", lines[0])
            assert url, lines
            base = url.group(1)
            assert lines[1] == "  api_key: sandbox-api-key\n"
            assert f"curl {base}/_sandbox/records/<endpoint>" in lines[3]
            assert lines[4] == f"  counts:           curl {base}/_sandbox/stats\n"
            with urllib.request.urlopen(f"{base}/_sandbox/stats", timeout=10) as answer:
                assert "requests" in json.loads(answer.read())
            with urllib.request.urlopen(f"{base}/_sandbox/records/audience", timeout=10) as answer:
                assert json.loads(answer.read()) is not None
        finally:
            process.terminate()
            process.wait(timeout=10)
