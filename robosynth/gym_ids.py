"""Registering robosynth's Gymnasium ids when ``import robosynth`` runs, without importing Gymnasium first.

If Gymnasium is already imported, the ids are registered at once; otherwise a one-shot import hook registers
them the moment Gymnasium finishes importing, whatever imports it. Either way ``gym.make("robosynth/...")``
works after ``import robosynth``, in any import order, and processes that never touch Gymnasium (the
``robosynth`` command line, ``generate``'s workers) skip its import (~0.1-0.2 s each).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

GYMNASIUM = "gymnasium"


def _register() -> None:
    from robosynth.gym.registration import register_envs

    register_envs()


class _RegisteringLoader(importlib.abc.Loader):
    """Gymnasium's own loader, followed by robosynth's registration once the module is complete."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _register()

    def __getattr__(self, name: str) -> object:  # get_resource_reader, get_filename, is_package, ...
        return getattr(self._loader, name)


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """One-shot finder: hands out Gymnasium's spec with a loader that registers robosynth's ids afterwards."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != GYMNASIUM:
            return None
        remove_hook()
        spec = importlib.util.find_spec(GYMNASIUM)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _RegisteringLoader(spec.loader)
        return spec


_HOOK = _RegisterOnImport()


def remove_hook() -> None:
    """Take the import hook off ``sys.meta_path`` (no-op when it is not there)."""
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def register_envs_when_gymnasium_loads() -> None:
    """Register the ids now if Gymnasium is imported, else as soon as it is (idempotent)."""
    if GYMNASIUM in sys.modules:
        _register()
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
