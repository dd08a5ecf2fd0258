"""Tasks: reward, success and scripted expert per task name (``registry``), and the check of a scene's task.

Each task class (``scenes/tasks/<name>.py``) declares ``Params`` (a frozen pydantic model of its
``task.params``: types, constraints, defaults), ``required_objects(params)`` (the scene objects it needs) and
``object_needs(params)`` (what it relies on in each: free or fixed, colliding, shape). ``validate_task``
checks all three for a scene; ``scenes.loader`` runs it on every scene it loads and ``make_task`` runs it
again, so a scene that would crash a task is refused with one line before any engine starts.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict

from scenes.spec import SceneSpec

# The built-in tasks register themselves (scenes.tasks.registry.register_task) when their modules load.
from scenes.tasks import clutter, open_drawer, pick_mesh, pick_place, push, reach, stack  # noqa: E402, F401, I001
from scenes.tasks.base import Task
from scenes.tasks.params import NoParams, ObjectNeed, TaskParams, parse_params
from scenes.tasks.registry import TaskEntry, gym_id_for_scene, register_task, registered_tasks, task_class
from sim.errors import SceneError


class AnyParams(TaskParams):
    """Parameters of a user's task class that declares no ``Params`` model: any mapping, read as given."""

    model_config = ConfigDict(frozen=True, extra="allow")


def params_model(cls: type | None) -> type[TaskParams]:
    """Return the ``Params`` model of a task class (``NoParams`` for ``none``, ``AnyParams`` if undeclared)."""
    if cls is None:
        return NoParams
    model = getattr(cls, "Params", AnyParams)
    return model if isinstance(model, type) and issubclass(model, TaskParams) else AnyParams


def task_params(spec: SceneSpec, scene_dir: Path | None = None) -> TaskParams:
    """Return the validated parameters of the scene's task (``NoParams`` for task ``none``)."""
    return parse_params(spec, params_model(task_class(spec.task.name, scene_dir)))


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


def validate_task(spec: SceneSpec, scene_dir: Path | None = None) -> None:
    """Raise SceneError (one line naming the field) unless the scene's task can run on it.

    Checks the task parameters against the task's ``Params``, that every required object exists and is
    named only once, and the properties the task relies on (``object_needs``).
    """
    cls = task_class(spec.task.name, scene_dir)
    params = parse_params(spec, params_model(cls))
    if cls is None:
        return
    index = {o.name: i for i, o in enumerate(spec.objects)}
    seen: dict[str, str] = {}
    needs = getattr(cls, "object_needs", None)
    for need in needs(params) if callable(needs) else ():
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


def make_task(spec: SceneSpec, scene_dir: Path | None = None) -> Task:
    """Return the task object for ``spec.task.name`` (SceneError if the scene cannot run it)."""
    validate_task(spec, scene_dir)
    cls = task_class(spec.task.name, scene_dir)
    if cls is None:
        raise SceneError(f"task.name: task '{spec.task.name}' is not implemented yet")
    return cls(spec)


__all__ = ["AnyParams", "Task", "TaskEntry", "gym_id_for_scene", "make_task", "params_model", "register_task",
           "registered_tasks", "task_class", "task_params", "validate_task"]
