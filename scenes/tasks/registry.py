"""The one registry of task names: each task class registers where it is defined, with its built-in scene, its
Gymnasium id and a one-line description; ``robosynth scenes``, the Gymnasium ids, a dataset's
``env_args.env_name`` and scene validation all read it.

Users extend it without editing robosynth: a scene names ``task: {name: "my_tasks:OpenBox"}`` (a module and
a task class in it) or ``"my_tasks:open_box"`` (a module and a name it registers with :func:`register_task`).
The module is imported from the scene file's folder (or anywhere on ``sys.path``), so naming a module in a
scene runs its code: load only scenes you trust, as with any Python file.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sim.errors import SceneError

TASK_METHODS = ("reset", "object_obs", "reward", "success", "expert")
NO_TASK = "none"
T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class TaskEntry:
    """A registered task: its class, one-line description, built-in scene and Gymnasium id (if any)."""

    name: str
    cls: type
    description: str
    scene: str | None = None
    gym_id: str | None = None


_REGISTRY: dict[str, TaskEntry] = {}


def register_task(name: str, *, description: str, scene: str | None = None,
                  gym_id: str | None = None) -> Callable[[T], T]:
    """Class decorator: register a task class under ``name`` (re-registering the same class is a no-op)."""

    def decorate(cls: T) -> T:
        check_task_class(cls, name)
        known = _REGISTRY.get(name)
        if known is not None and known.cls.__qualname__ != cls.__qualname__:
            raise SceneError(f"task '{name}' is already registered by {known.cls.__module__}.{known.cls.__name__}")
        _REGISTRY[name] = TaskEntry(name, cls, description, scene, gym_id)
        return cls

    return decorate


def check_task_class(obj: Any, ref: str) -> None:
    """Raise SceneError unless ``obj`` is a class with the task methods (reset, object_obs, reward, ...)."""
    if not inspect.isclass(obj):
        raise SceneError(f"task.name: '{ref}' is not a task class")
    missing = [m for m in TASK_METHODS if not callable(getattr(obj, m, None))]
    if missing:
        raise SceneError(f"task.name: '{ref}' is not a task class (it lacks {', '.join(missing)}; "
                         "see docs/tasks.md, 'Your own task')")


def registered_tasks() -> dict[str, TaskEntry]:
    """Return the registered tasks by name (built-in ones first, in registration order)."""
    return dict(_REGISTRY)


def gym_id_for_scene(scene: str) -> str | None:
    """Return the Gymnasium id of a built-in scene (the one its task registered), else None."""
    return next((e.gym_id for e in _REGISTRY.values() if e.scene == scene and e.gym_id), None)


def _import(module: str, scene_dir: Path | None) -> Any:
    """Import ``module``, looking in the scene's folder too (it stays on sys.path so workers find it)."""
    if scene_dir is not None and str(scene_dir) not in sys.path:
        sys.path.insert(0, str(scene_dir))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            raise SceneError(f"task.name: no Python module '{module}' (looked in the scene's folder and on "
                             "sys.path)") from None
        raise SceneError(f"task.name: importing '{module}' failed: {exc}") from None
    except SceneError:
        raise
    except Exception as exc:  # a user's module that fails to import: one line, not a traceback
        raise SceneError(f"task.name: importing '{module}' failed: {type(exc).__name__}: {exc}") from None


def task_class(name: str, scene_dir: Path | None = None) -> type | None:
    """Return the task class a scene's ``task.name`` names (None for ``none``); SceneError if none fits."""
    if name == NO_TASK:
        return None
    if name in _REGISTRY:
        return _REGISTRY[name].cls
    if ":" not in name:
        raise SceneError(f"task.name: unknown task '{name}' (registered: {', '.join(_REGISTRY)}, none; or "
                         "'module:TaskClass' for your own)")
    module, _, attr = name.partition(":")
    mod = _import(module, scene_dir)
    if attr in _REGISTRY:  # the module registered it under this name
        return _REGISTRY[attr].cls
    found = getattr(mod, attr, None)
    if found is None:
        raise SceneError(f"task.name: module '{module}' has no task '{attr}'")
    check_task_class(found, name)
    return found
