"""structlog set-up: console on a terminal, JSON otherwise; every secret redacted and every e-mail
address or phone number masked (unless --reveal-pii) before output.

structlog itself (with asyncio, and rich where installed) costs more to import than `omnisync
validate` takes to run, so it is imported when something first logs: modules take their logger
from `get_logger`, and `configure` takes effect then (at once when structlog is already loaded).
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterable, MutableMapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, quote_plus

import orjson

from engine.pii import mask_text

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

_SECRETS: set[str] = set()
MASK = "***"
_PII = {"reveal": False}


def reveal_pii(reveal: bool) -> None:
    """`--reveal-pii`: logs keep e-mail addresses and phone numbers in clear."""
    _PII["reveal"] = reveal


def register_secrets(values: Iterable[str]) -> None:
    """Values that must never be printed, with the forms they take in headers, URLs and JSON."""
    for value in values:
        if value and len(value) >= 4:
            _SECRETS.update(v for v in _encodings(value) if len(v) >= 4)


def _encodings(secret: str) -> set[str]:
    """The secret as written, base64 (Basic auth), URL-encoded (a query) and JSON-escaped."""
    raw = secret.encode()
    forms = {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        orjson.dumps(secret).decode()[1:-1],
        json.dumps(secret)[1:-1],  # \uXXXX for non-ASCII, as the standard library writes it
    }
    # base64 of the secret inside longer data ("user:key") shifts its alignment: the stable core
    for offset in (1, 2):
        shifted = base64.b64encode(b"\0" * offset + raw).decode()
        forms.add(shifted[4 : -4 if len(shifted) > 8 else None])
    return forms


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value if _PII["reveal"] else mask_text(value))
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact(str(value))
    return value


def redact_processor(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event.items():
        event[key] = _redact_value(value)
    return event


def _orjson_dumps(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


class StatusLine:
    """stderr shared by log lines and one status line (the progress display): a log line first
    erases the status line and it is drawn again below, so the two never share a line."""

    ERASE = "\r\x1b[K"

    def __init__(self) -> None:
        self.text = ""
        self._drawn = False  # the status line is what the cursor's line shows now

    def write(self, text: str) -> int:
        stream = sys.stderr  # looked up each time: tests and click swap it
        if self._drawn:
            stream.write(self.ERASE)
            self._drawn = False
        stream.write(text)
        if self.text and text.endswith("\n"):
            stream.write(self.text)
            self._drawn = True
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def show(self, text: str) -> None:
        """Draw (or redraw) the status line in place."""
        sys.stderr.write(self.ERASE + text)
        sys.stderr.flush()
        self.text = text
        self._drawn = True

    def end(self) -> None:
        """Leave the last status on screen and move below it."""
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.text = ""
        self._drawn = False


STDERR = StatusLine()


_SETTINGS: dict[str, str] = {}  # the format and level `configure` chose, until structlog has them


def configure(log_format: str | None, level: str) -> str:
    """Returns the format chosen; logs go to stderr so stdout stays for results."""
    chosen = log_format or ("console" if sys.stderr.isatty() else "json")
    _SETTINGS.update(format=chosen, level=level)
    if "structlog" in sys.modules:
        _apply(sys.modules["structlog"])
    return chosen


def structlog_module() -> ModuleType:
    """structlog, with the settings of the last `configure` in force."""
    import structlog

    if _SETTINGS:
        _apply(structlog)
    return structlog


def get_logger(name: str) -> FilteringBoundLogger:
    """A logger that imports structlog when it first logs."""
    return cast("FilteringBoundLogger", _DeferredLogger(name))


class _DeferredLogger:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(structlog_module().get_logger(self._name), attr)


def bind(**values: Any) -> None:
    """Context every later log line of this task carries (run id, sync name)."""
    structlog_module().contextvars.bind_contextvars(**values)


def unbind(*keys: str) -> None:
    structlog_module().contextvars.unbind_contextvars(*keys)


def bound() -> dict[str, Any]:
    """The context bound so far in this task."""
    values: dict[str, Any] = structlog_module().contextvars.get_contextvars()
    return values


def _apply(structlog: Any) -> None:
    import logging

    chosen, level = _SETTINGS.pop("format"), _SETTINGS.pop("level")
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if chosen == "console"
        else structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=STDERR),
        cache_logger_on_first_use=False,
    )
