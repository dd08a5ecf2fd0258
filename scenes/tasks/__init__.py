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
    if name == "reach":
        from scenes.tasks.reach import ReachTask

        return ReachTask(spec)
    if name == "push":
        from scenes.tasks.push import PushTask

        return PushTask(spec)
    if name == "stack":
        from scenes.tasks.stack import StackTask

        return StackTask(spec)
    if name == "clutter":
        from scenes.tasks.clutter import ClutterTask

        return ClutterTask(spec)
    raise SceneError(f"task.name: task '{name}' is not implemented yet")


__all__ = ["Task", "make_task"]
