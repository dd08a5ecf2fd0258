"""CLI verbs about scenes: ``scenes`` (list), ``schema`` (JSON Schema), ``validate`` (check and compile)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robosynth.cli.common import out_console, resolve_backends

if TYPE_CHECKING:
    from rich.table import Table

    from scenes.spec import SceneSpec
    from sim.backend import WorldInfo

SceneArg = Annotated[
    str, typer.Argument(metavar="SCENE", help="built-in scene name (see `robosynth scenes`) or a YAML path")
]
BackendOpt = Annotated[
    str, typer.Option("--backend", "-b", metavar="BACKEND", help="mujoco, pybullet or all")
]


def scenes_cmd() -> None:
    """List the built-in scenes and the registered tasks (with their Gymnasium ids)."""
    from rich.table import Table

    from robosynth.gym.registration import GENERIC_ID
    from scenes.loader import builtin_names, load_scene
    from scenes.tasks import registered_tasks

    table = Table(title="built-in scenes", title_justify="left")
    table.add_column("scene", style="bold", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("gym id", no_wrap=True)
    table.add_column("description")
    tasks = registered_tasks()
    for name in builtin_names():
        spec = load_scene(name)
        entry = tasks.get(spec.task.name)
        gym_id = entry.gym_id if entry is not None and entry.scene == name and entry.gym_id else GENERIC_ID
        table.add_row(name, spec.task.name, gym_id, spec.description)
    out_console().print(table)
    tasks_table = Table(title="registered tasks (scene task.name; your own: 'module:TaskClass')",
                        title_justify="left")
    tasks_table.add_column("task", style="bold", no_wrap=True)
    tasks_table.add_column("built-in scene", no_wrap=True)
    tasks_table.add_column("description")
    for entry in tasks.values():
        tasks_table.add_row(entry.name, entry.scene or "-", entry.description)
    out_console().print(tasks_table)


def schema_cmd() -> None:
    """Print the JSON Schema of the scene format."""
    import json

    from scenes.spec import SceneSpec

    sys.stdout.write(json.dumps(SceneSpec.model_json_schema(), indent=2) + "\n")


def _compile_info(spec: SceneSpec, backend: str, folder: Path) -> WorldInfo:
    """Return what ``backend`` compiles ``spec`` into, closing the engine afterwards."""
    from sim.backend import make_backend

    world = make_backend(backend)
    try:
        world.build(spec, folder)
        return world.info()
    finally:
        world.close()


def _info_table(spec: SceneSpec, info: WorldInfo) -> Table:
    """Return a table of the bodies, joints, actuators and cameras of a compiled world."""
    version = info.engine_version.removeprefix(info.backend).strip()  # "pybullet 2020..." -> "2020..."
    extra = ", ".join(f"{key} {value}" for key, value in info.extra.items())
    from rich.table import Table

    table = Table(
        title=f"{spec.name} on {info.backend} {version}",
        title_justify="left",
        caption=f"engine: {extra}" if extra else None,
        caption_justify="left",
    )
    table.add_column("kind", no_wrap=True)
    table.add_column("count", justify="right")
    table.add_column("names")
    for kind, names in (
        ("bodies", info.bodies),
        ("joints", info.joints),
        ("actuators", info.actuators),
        ("cameras", info.cameras),
    ):
        table.add_row(kind, str(len(names)), ", ".join(names))
    return table


def validate_cmd(scene: SceneArg, backend: BackendOpt = "all") -> None:
    """Validate a scene and compile it on the backend(s); print bodies, joints, actuators, cameras."""
    from randomization.load import load_scene_randomized
    from randomization.params import sample_episode_params
    from scenes.loader import scene_dir

    backends = resolve_backends(backend)  # flags first: nothing is loaded for a bad --backend
    spec, config = load_scene_randomized(scene)  # invalid scenes fail here, before any engine starts
    sample_episode_params(config, spec, 0, 0)  # e.g. a placement that cannot succeed fails here, as in generate
    console = out_console()
    console.print(
        f"scene '{spec.name}' is valid: objects {len(spec.objects)}, cameras {len(spec.cameras)}, "
        f"lights {len(spec.lights)}, task {spec.task.name} (horizon {spec.task.horizon}), "
        f"control dt {spec.physics.control_dt:g} s"
    )
    for name in backends:
        console.print(_info_table(spec, _compile_info(spec, name, scene_dir(scene))))
