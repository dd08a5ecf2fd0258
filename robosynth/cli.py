"""The ``robosynth`` command: a thin typer shell over the library (SPEC section 2).

Exit codes: 0 ok, 1 a check failed (or an internal error), 2 bad input, 130 interrupted.
Library code raises typed exceptions (``sim.errors.InputError`` and subclasses for bad input);
only :func:`invoke` turns them into exit codes and one-line messages.

Adding a verb (generate, inspect, verify, preview, replay, report):
  1. write ``def <verb>(...) -> None`` below with typed ``Annotated`` arguments and a one-line docstring
     (it becomes the ``--help`` text), decorated with ``@app.command()``;
  2. import the heavy library modules *inside* the function, so that ``robosynth --help`` stays fast and
     never starts an engine;
  3. raise ``InputError`` subclasses for bad input (exit 2) and ``typer.Exit(EXIT_CHECK_FAILED)`` when a
     check ran and failed (exit 1); never call ``sys.exit`` or print tracebacks;
  4. add a subprocess test in ``tests/`` using the ``run_cli`` fixture and a line in ``docs/cli.md``.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from robosynth.cli_common import (
    DEBUG_ENV,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    click_abort_types,
    click_exception_types,
    debug_enabled,
    out_console,
    print_error,
    resolve_backends,
    version_string,
)
from sim.errors import InputError

if TYPE_CHECKING:
    from scenes.spec import SceneSpec
    from sim.backend import WorldInfo

app = typer.Typer(
    name=PROG,
    help="Declarative robot scenes on MuJoCo and PyBullet -> domain-randomized HDF5 episodes.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SceneArg = Annotated[
    str, typer.Argument(metavar="SCENE", help="built-in scene name (see `robosynth scenes`) or a YAML path")
]
BackendOpt = Annotated[
    str, typer.Option("--backend", "-b", metavar="BACKEND", help="mujoco, pybullet or all")
]


def _version_callback(value: bool) -> None:
    """Print the version line and stop."""
    if value:
        typer.echo(version_string())
        raise typer.Exit(EXIT_OK)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="show versions and exit"),
    ] = False,
) -> None:
    """Declarative robot scenes on MuJoCo and PyBullet -> domain-randomized HDF5 episodes."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(EXIT_OK)


# --------------------------------------------------------------------------------------------- scenes


@app.command("scenes")
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


# --------------------------------------------------------------------------------------------- schema


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the scene format."""
    import json

    from scenes.spec import SceneSpec

    sys.stdout.write(json.dumps(SceneSpec.model_json_schema(), indent=2) + "\n")


# ------------------------------------------------------------------------------------------- validate


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


@app.command("validate")
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


# ------------------------------------------------------------------------------- later verbs go here
# generate, inspect, verify, preview, replay, report: see "Adding a verb" in the module docstring.

def _register_dataset_verbs() -> None:
    from robosynth import cli_data

    app.command("generate")(cli_data.generate_cmd)
    app.command("inspect")(cli_data.inspect_cmd)
    app.command("verify")(cli_data.verify_cmd)
    from robosynth import cli_replay

    app.command("replay")(cli_replay.replay_cmd)
    from robosynth import cli_report

    app.command("report")(cli_report.report_cmd)


_register_dataset_verbs()


@app.command("preview")
def preview_cmd(
    path: Annotated[str | None, typer.Argument(metavar="[PATH]", help="dataset directory or .hdf5 file")] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="output .png/.jpg (.mp4 for a dataset PATH)")] = ...,
    scene: Annotated[str | None, typer.Option("--scene", help="preview a scene's cameras instead of a dataset")] = None,
    backend: BackendOpt = "mujoco",
    quality: Annotated[str, typer.Option("--quality", help="render preset: fast, default, high")] = "default",
    resolution: Annotated[str | None, typer.Option("--resolution", help="WIDTHxHEIGHT for every camera")] = None,
    seed: Annotated[int, typer.Option("--seed", help="dataset seed: the layout of its episode 0")] = 0,
    episodes: Annotated[int, typer.Option("--episodes", help="dataset episodes to show")] = 3,
    frames: Annotated[int, typer.Option("--frames", help="steps per episode on a contact sheet")] = 4,
) -> None:
    """Contact sheet / video of RGB, colourised depth and segmentation of a dataset or a scene's cameras."""
    from renderers.camera import parse_resolution
    from robosynth import preview

    if (path is None) == (scene is None):
        raise InputError("give either a dataset PATH or --scene SCENE")
    if scene is not None:
        res = None if resolution is None else parse_resolution(resolution)
        written = preview.preview_scene(scene, resolve_backends(backend), out, quality, res, seed)
    else:
        written = preview.preview_dataset(path, out, episodes, frames)
    out_console().print(f"wrote {written}")


# ------------------------------------------------------------------------------------------ entry


def invoke(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    try:
        rv = app(args=argv, prog_name=PROG, standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except InputError as exc:
        _debug_traceback()
        print_error(exc)
        return EXIT_BAD_INPUT
    except click_exception_types() as exc:  # usage errors: unknown option, missing argument, ...
        print_error(_usage_message(exc))
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, *click_abort_types()):
        sys.stderr.write(f"\n{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # e.g. `robosynth schema | head`: stop quietly
            _silence_stdout()
            return EXIT_CHECK_FAILED
        return _internal_error(exc)
    except Exception as exc:
        return _internal_error(exc)


def _usage_message(exc: BaseException) -> str:
    """Return a click usage error as one line, pointing at the verb's --help."""
    fmt = getattr(exc, "format_message", None)
    message = fmt() if callable(fmt) else str(exc)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or PROG
    return f"{message} (see '{path} --help')"


def _internal_error(exc: BaseException) -> int:
    """Report an unexpected exception as one line (traceback with ROBOSYNTH_DEBUG=1); return 1."""
    _debug_traceback()
    hint = "" if debug_enabled() else f" (set {DEBUG_ENV}=1 for the traceback)"
    print_error(f"internal error: {type(exc).__name__}: {exc}{hint}")
    return EXIT_CHECK_FAILED


def _debug_traceback() -> None:
    """Print the current traceback to stderr when ROBOSYNTH_DEBUG is set."""
    if debug_enabled():
        traceback.print_exc()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    sys.exit(invoke())
