"""A module imported on first use, so a command pays only for the libraries its spec needs.

`omnisync validate` on a CSV-only spec must not load SQLAlchemy, boto3 or phonenumbers just
because the SQL source, the S3 source or the phone transform are installed. A plugin module keeps
its schema and checks at import time and binds its heavy library through `lazy_module`:

    if TYPE_CHECKING:
        import sqlalchemy as sa
    else:
        sa = lazy_module("sqlalchemy")

Type checkers see the real module; at run time the first attribute read imports it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy_module(name: str) -> Any:
    """A stand-in for `import name` that imports it when an attribute is first read."""
    return _LazyModule(name)
