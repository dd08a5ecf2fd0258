"""Lazy package attributes (PEP 562): a package's ``__getattr__`` / ``__dir__`` that import the submodule defining
a name on first use, so that importing the package does not import every submodule."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, module_of: Mapping[str, str],
                 namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return (``__getattr__``, ``__dir__``) for ``package``: name -> ``package.<module_of[name]>.name``, cached in
    ``namespace`` (the package's ``globals()``) after its first use."""

    def getattr_(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted([*namespace, *module_of])

    return getattr_, dir_
