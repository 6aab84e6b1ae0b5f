"""Package attributes imported on first use (PEP 562).

``import calyptia_logs.testing.plugin`` runs at every pytest start once the package
is installed, and imports its parent packages: their ``__init__`` modules import
nothing heavy, and load each name (and aiohttp with it) when it is first asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose ``exports`` load on first use.

    Args:
        package: The package's name, for the error message.
        namespace: The package's ``globals()``: a loaded name is cached there.
        exports: Each public name and the module it lives in.
    """

    def __getattr__(name: str) -> object:  # noqa: N807 - the module-level hook's name
        module = exports.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
