"""${VAR} and ${VAR:-default} from the environment; values that look secret are remembered for redaction."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|DATABASE_URL|DSN", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"api_key|password|secret|token|credential", re.IGNORECASE)


class Interpolator:
    """Expands references; collects every value that came from a secret-looking variable or field."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.secrets: set[str] = set()

    def note_if_secret(self, path: tuple[str | int, ...], value: str) -> None:
        """A literal written under a secret-looking key is as secret as an interpolated one."""
        if value and path and isinstance(path[-1], str) and _SECRET_FIELD.search(path[-1]):
            self.secrets.add(value)

    def expand(self, text: str, path: tuple[str | int, ...]) -> tuple[str, list[str]]:
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
                    problems.append(f"environment variable {name} is not set")
                    return ""
                value = default
            if value and (_SECRET_NAME.search(name) or field_is_secret):
                self.secrets.add(value)
            return value

        return _REFERENCE.sub(replace, text), problems
