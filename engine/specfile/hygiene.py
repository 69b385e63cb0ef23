"""Rules every spec value obeys, whatever plugin reads it.

A spec is reviewed in a pull request and then run with the CI's secrets, so the loader refuses
what a reviewer could miss: a literal secret (it would sit in git history), a password inside a
URL, a URL with whitespace or control characters, plain http to a host other than this machine,
and an output file outside the spec's directory. Mapping rules and test rows are data, not
configuration: they are left to the mapping checks.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit

JsonPath = tuple[str | int, ...]

_SECRET_FIELD = re.compile(
    r"api_key|password|passwd|secret|token|credential|private_key", re.IGNORECASE
)
_ONE_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*?:(?P<password>[^/?#@\s]*)@")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_OUTPUT_KEYS = frozenset({"reject_file"})
_DATA_SECTIONS = frozenset({"mapping", "tests", "filter"})


def is_data(path: JsonPath) -> bool:
    """Under syncs[i].mapping / tests / filter: row data and rules, not configuration."""
    return len(path) > 2 and path[0] == "syncs" and path[2] in _DATA_SECTIONS


def raw_value_problems(path: JsonPath, raw: str) -> list[str]:
    """Problems with a value as written in the file, before ${VAR} is expanded."""
    problems = []
    key = path[-1] if path else None
    if (
        isinstance(key, str)
        and _SECRET_FIELD.search(key)
        and not key.endswith("_file")
        and not _ONE_REFERENCE.match(raw.strip())
    ):
        problems.append(
            "a secret must not be written in the spec: write ${VARIABLE} and set it in the "
            "environment" + (" (or use api_key_file:)" if key == "api_key" else "")
        )
    password = _URL_PASSWORD.match(raw)
    if password and password.group("password") and "${" not in password.group("password"):
        problems.append(
            "the URL holds a password: take the whole URL or the password from the environment, "
            "e.g. postgresql://app:${DB_PASSWORD}@db/app or ${DATABASE_URL}"
        )
    return problems


def value_problems(path: JsonPath, value: str) -> list[str]:
    """Problems with a value once ${VAR} is expanded."""
    control = _CONTROL.search(value)
    if control:
        return [f"control character U+{ord(control.group()):04X} in a value"]
    key = path[-1] if path else None
    if not isinstance(key, str):
        return []
    if key == "url" or key.endswith("_url"):
        return _url_problems(value)
    if key in _OUTPUT_KEYS:
        return _output_path_problems(value)
    if path == ("state", "path"):  # a database, not text: an absolute CI path is fine, '..' is not
        return [] if _is_absolute(value) else _output_path_problems(value)
    return []


def _url_problems(value: str) -> list[str]:
    if "://" not in value:
        return []
    if _SPACE_OR_CONTROL.search(value):
        return ["a URL must not contain whitespace or control characters"]
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return [f"not a valid URL: {exc}"]
    if parts.scheme.lower() == "http" and not _is_loopback(host):
        return [f"use https:// (plain http is allowed only for this machine, not {host!r})"]
    return []


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_absolute(value: str) -> bool:
    return PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()


def _output_path_problems(value: str) -> list[str]:
    """Written files stay inside the spec's directory: a spec cannot overwrite ~/.bashrc."""
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or value.startswith("~"):
        return ["an output path must be relative to the spec's directory"]
    depth = 0
    for part in re.split(r"[\\/]+", value):
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return ["an output path must stay inside the spec's directory (no '..' out of it)"]
    return []
