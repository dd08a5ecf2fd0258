"""Task registry: reward, success and scripted expert per task name."""

from __future__ import annotations

from scenes.tasks.base import Task
from sim.errors import SceneError


def make_task(spec) -> Task:
    """Return the task object for ``spec.task.name``."""
    name = spec.task.name
    if name == "pick_place":
        from scenes.tasks.pick_place import PickPlaceTask

        return PickPlaceTask(spec)
    raise SceneError(f"task.name: task '{name}' is not implemented yet")


__all__ = ["Task", "make_task"]
