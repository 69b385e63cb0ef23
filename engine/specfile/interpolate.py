"""${VAR} and ${VAR:-default} from the environment; values that look secret are remembered for redaction.

Offline (validate, test, plan --offline in CI without secrets) an unset variable is a note, not an
error: the reference is left in place and the checks of that value are skipped and named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_WHOLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|DATABASE_URL|DSN", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"api_key|password|secret|token|credential", re.IGNORECASE)

JsonPath = tuple[str | int, ...]


def is_whole_reference(text: str) -> bool:
    """`${X}` or `${X:-default}` and nothing else: its value may be a number or a boolean."""
    return bool(_WHOLE.match(text))


class Interpolator:
    """Expands references; collects every value that came from a secret-looking variable or field."""

    def __init__(self, environ: Mapping[str, str] | None = None, allow_unset: bool = False) -> None:
        self.environ = os.environ if environ is None else environ
        self.allow_unset = allow_unset
        self.secrets: set[str] = set()
        # offline: path -> the unset variables its value needs (the value keeps the reference)
        self.unset: dict[JsonPath, list[str]] = {}

    def note_if_secret(self, path: JsonPath, value: str) -> None:
        """A literal written under a secret-looking key is as secret as an interpolated one."""
        if path in self.unset:
            return  # a reference left in place is no secret
        if value and path and isinstance(path[-1], str) and _SECRET_FIELD.search(path[-1]):
            self.secrets.add(value)

    def expand(self, text: str, path: JsonPath) -> tuple[str, list[str]]:
        problems: list[str] = []
        field_is_secret = (
            bool(path) and isinstance(path[-1], str) and _SECRET_FIELD.search(path[-1])
        )

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            value = self.environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is None:
                    if self.allow_unset:
                        self.unset.setdefault(path, []).append(name)
                        return match.group(0)
                    problems.append(f"environment variable {name} is not set")
                    return ""
                value = default
            if value and (_SECRET_NAME.search(name) or field_is_secret):
                self.secrets.add(value)
            return value

        return _REFERENCE.sub(replace, text), problems
