"""One exception root, sorted by what the caller can do; the CLI maps them to exit codes in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """What a script or CI job can branch on; README.md's "Exit codes" lists the same."""

    OK = 0
    DELIVERY_FAILED = 1  # also a source, the state store or a plugin failing (OmnisyncError)
    SPEC_INVALID = 2  # nothing was read or sent
    REJECTS_EXCEEDED = 3
    MAPPING_TESTS_FAILED = 4  # `omnisync test`: a test failed, or the spec has none
    EXPECTATION_BREACHED = 5  # a degraded run: an `expect:` bound broken, nothing else failed
    OUTCOME_UNKNOWN = 6  # triggers an earlier run sent without a known outcome: not sent again
    INTERNAL_ERROR = 70  # an unexpected exception, i.e. a bug (EX_SOFTWARE of sysexits.h)
    INTERRUPTED = 130  # SIGINT (Ctrl-C), as shells report 128 + 2
    TERMINATED = 143  # SIGTERM, 128 + 15


class OmnisyncError(Exception):
    """Base of every error a user may see; its message is meant for them, never a traceback."""

    exit_code: ExitCode = ExitCode.DELIVERY_FAILED


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec, located by its JSON path; the loader turns the path into file:line:col."""

    path: tuple[str | int, ...]
    message: str
    at_key: bool = False  # point at the key itself (unknown keys) rather than its value
    in_sync: bool = (
        False  # a destination's issue located in its sync (a mapping key), not its block
    )


class SpecError(OmnisyncError):
    """The spec is invalid; nothing has been read or sent."""

    exit_code = ExitCode.SPEC_INVALID

    def __init__(
        self, lines: list[str], notes: tuple[str, ...] = (), warnings: tuple[str, ...] = ()
    ) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.notes = notes  # offline checks: the unset variables whose checks were skipped
        self.warnings = warnings  # values that do not fail but may not mean what was meant


class SourceSettingError(OmnisyncError):
    """The source opened, and what it holds contradicts a setting of its block: a `rename:` of a
    header it lacks, an `encoding` its bytes are not in. A spec error at that setting (exit 2),
    found by `validate` and before a run sends anything; `path` is relative to the source block."""

    exit_code = ExitCode.SPEC_INVALID

    def __init__(self, message: str, path: tuple[str | int, ...], at_key: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.at_key = at_key

    def within(self, where: str) -> SourceSettingError:
        """The same error, its message prefixed with the file (or table) it was found in."""
        return SourceSettingError(f"{where}: {self}", self.path, self.at_key)


class DeliveryError(OmnisyncError):
    """Delivery cannot go on (bad credentials, API down past the retry policy)."""


class RejectBudgetExceeded(OmnisyncError):
    """Too many rows were rejected: the mapping or the data is broken."""

    exit_code = ExitCode.REJECTS_EXCEEDED


class ExpectationBreached(OmnisyncError):
    """A sync's `expect:` refused the run before anything was sent (too many records changed)."""

    exit_code = ExitCode.EXPECTATION_BREACHED
