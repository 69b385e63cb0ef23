"""structlog is imported when something first logs, yet every line carries the settings of the
last `configure`: the format, the level and the redaction. A fresh interpreter, as the test
process itself has structlog loaded."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """\
import sys
from engine import logging as omnilog

log = omnilog.get_logger("omnisync.test")
omnilog.register_secrets(["s3cr3t-value"])
assert omnilog.configure("json", "warning") == "json"
assert "structlog" not in sys.modules, "configure imported structlog"
log.info("quiet", detail="below the level")
log.warning("loud", token="s3cr3t-value", email="ann@example.com")
omnilog.bind(run_id="r1")
log.error("bound")
"""


def test_the_first_log_line_imports_structlog_with_the_configured_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["loud", "bound"]  # info is below warning
    assert lines[0]["token"] == "***"
    assert lines[0]["email"] != "ann@example.com"  # masked unless --reveal-pii
    assert lines[0]["level"] == "warning"
    assert lines[1]["run_id"] == "r1"


def test_configure_takes_effect_at_once_when_structlog_is_loaded() -> None:
    script = "import structlog\n" + SCRIPT.replace(
        'assert "structlog" not in sys.modules, "configure imported structlog"\n', ""
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["event"] for line in done.stderr.splitlines()] == ["loud", "bound"]
