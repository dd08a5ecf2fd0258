"""CLI verbs about scenes: ``scenes`` (list), ``schema`` (JSON Schema), ``validate`` (check and compile)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from robosynth.cli.common import out_console, resolve_backends

if TYPE_CHECKING:
    from scenes.spec import SceneSpec
    from sim.backend import WorldInfo

SceneArg = Annotated[
    str, typer.Argument(metavar="SCENE", help="built-in scene name (see `robosynth scenes`) or a YAML path")
]
BackendOpt = Annotated[
    str, typer.Option("--backend", "-b", metavar="BACKEND", help="mujoco, pybullet or all")
]


def scenes_cmd() -> None:
    """List the built-in scenes with their task and a one-line description."""
    from scenes.loader import builtin_names, load_scene

    table = Table(title="built-in scenes", title_justify="left")
    table.add_column("scene", style="bold", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("description")
    for name in builtin_names():
        spec = load_scene(name)
        table.add_row(name, spec.task.name, spec.description)
    out_console().print(table)


def schema_cmd() -> None:
    """Print the JSON Schema of the scene format."""
    import json

    from scenes.spec import SceneSpec

    sys.stdout.write(json.dumps(SceneSpec.model_json_schema(), indent=2) + "\n")


def _compile_info(spec: SceneSpec, backend: str) -> WorldInfo:
    """Return what ``backend`` compiles ``spec`` into, closing the engine afterwards."""
    from sim.backend import make_backend

    world = make_backend(backend)
    try:
        world.build(spec)
        return world.info()
    finally:
        world.close()


def _info_table(spec: SceneSpec, info: WorldInfo) -> Table:
    """Return a table of the bodies, joints, actuators and cameras of a compiled world."""
    version = info.engine_version.removeprefix(info.backend).strip()  # "pybullet 2020..." -> "2020..."
    extra = ", ".join(f"{key} {value}" for key, value in info.extra.items())
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
    from scenes.loader import load_scene

    backends = resolve_backends(backend)  # flags first: nothing is loaded for a bad --backend
    spec = load_scene(scene)  # invalid scenes fail here, before any engine starts
    console = out_console()
    console.print(
        f"scene '{spec.name}' is valid: objects {len(spec.objects)}, cameras {len(spec.cameras)}, "
        f"lights {len(spec.lights)}, task {spec.task.name} (horizon {spec.task.horizon}), "
        f"control dt {spec.physics.control_dt:g} s"
    )
    for name in backends:
        console.print(_info_table(spec, _compile_info(spec, name)))
