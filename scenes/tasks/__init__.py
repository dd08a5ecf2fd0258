"""Task registry: reward, success and scripted expert per task name, and the check of a scene's task.

Each task class (``scenes/tasks/<name>.py``) declares ``Params`` (a frozen pydantic model of its
``task.params``: types, constraints, defaults), ``required_objects(params)`` (the scene objects it needs) and
``object_needs(params)`` (what it relies on in each: free or fixed, colliding, shape). ``validate_task``
checks all three for a scene; ``scenes.loader`` runs it on every scene it loads and ``make_task`` runs it
again, so a scene that would crash a task is refused with one line before any engine starts.
"""

from __future__ import annotations

from importlib import import_module

from scenes.tasks.base import Task
from scenes.tasks.params import NoParams, ObjectNeed, TaskParams, parse_params
from sim.errors import SceneError

TASKS = {
    "pick_place": "scenes.tasks.pick_place:PickPlaceTask",
    "reach": "scenes.tasks.reach:ReachTask",
    "push": "scenes.tasks.push:PushTask",
    "stack": "scenes.tasks.stack:StackTask",
    "clutter": "scenes.tasks.clutter:ClutterTask",
}


def task_class(name: str) -> type | None:
    """Return the task class registered as ``name`` (None for ``none``); SceneError if there is none."""
    if name == "none":
        return None
    if name not in TASKS:
        raise SceneError(f"task.name: task '{name}' is not implemented yet")
    module, cls = TASKS[name].split(":")
    return getattr(import_module(module), cls)


def task_params(spec) -> TaskParams:
    """Return the validated parameters of the scene's task (``NoParams`` for task ``none``)."""
    cls = task_class(spec.task.name)
    return parse_params(spec, NoParams if cls is None else cls.Params)


def _check_object(task: str, need: ObjectNeed, index: int, obj) -> None:
    where = f"objects[{index}]"
    if need.fixed is not None and obj.fixed != need.fixed:
        state = "fixed: true" if need.fixed else "fixed: false"
        raise SceneError(f"{where}.fixed: task {task} needs object '{obj.name}' (task.params.{need.param}) "
                         f"with {state}: {need.why}")
    if need.collide is not None and obj.collide != need.collide:
        raise SceneError(f"{where}.collide: task {task} needs object '{obj.name}' (task.params.{need.param}) "
                         f"with collide: {str(need.collide).lower()}: {need.why}")
    if need.shapes is not None and obj.shape not in need.shapes:
        raise SceneError(f"{where}.shape: task {task} needs object '{obj.name}' (task.params.{need.param}) "
                         f"to be a {' or '.join(need.shapes)}, got {obj.shape}: {need.why}")


def validate_task(spec) -> None:
    """Raise SceneError (one line naming the field) unless the scene's task can run on it.

    Checks the task parameters against the task's ``Params``, that every required object exists and is
    named only once, and the properties the task relies on (``object_needs``).
    """
    cls = task_class(spec.task.name)
    params = parse_params(spec, NoParams if cls is None else cls.Params)
    if cls is None:
        return
    index = {o.name: i for i, o in enumerate(spec.objects)}
    seen: dict[str, str] = {}
    for need in cls.object_needs(params):
        if need.name not in index:
            names = ", ".join(list(index)[:12]) or "none"
            names += f", ... ({len(index)} in all)" if len(index) > 12 else ""
            raise SceneError(f"task.params.{need.param}: task {spec.task.name} needs an object named "
                             f"'{need.name}' (scene objects: {names})")
        if need.name in seen:
            raise SceneError(f"task.params.{need.param}: names the same object as task.params.{seen[need.name]} "
                             f"('{need.name}'); task {spec.task.name} needs different objects")
        seen[need.name] = need.param
        _check_object(spec.task.name, need, index[need.name], spec.objects[index[need.name]])
    for key in params.model_extra or {}:  # <object>_region markers (tasks that allow extra keys)
        if key.removesuffix("_region") not in index:
            raise SceneError(f"task.params.{key}: unknown field (and no object '{key.removesuffix('_region')}' "
                             f"in the scene for an <object>_region marker)")


def make_task(spec) -> Task:
    """Return the task object for ``spec.task.name`` (SceneError if the scene cannot run it)."""
    validate_task(spec)
    cls = task_class(spec.task.name)
    if cls is None:
        raise SceneError(f"task.name: task '{spec.task.name}' is not implemented yet")
    return cls(spec)


__all__ = ["TASKS", "Task", "make_task", "task_class", "task_params", "validate_task"]
