"""The ``robosynth`` command: a thin typer shell over the library (verbs in the sibling modules).

Exit codes: 0 ok, 1 a check failed (or an internal error), 2 bad input, 130 interrupted.
Library code raises typed exceptions (``sim.errors.InputError`` and subclasses for bad input);
only :func:`invoke` turns them into exit codes and one-line messages.

Adding a verb:
  1. write ``def <verb>_cmd(...) -> None`` in the module of its group (``scene``, ``data``, ``preview``,
     ``replay``, ``report``, or a new one) with typed ``Annotated`` arguments and a one-line docstring
     (it becomes the ``--help`` text), and add it in :func:`_register_verbs`;
  2. import the heavy library modules *inside* the function, so that ``robosynth --help`` stays fast and
     never starts an engine;
  3. raise ``InputError`` subclasses for bad input (exit 2) and ``typer.Exit(EXIT_CHECK_FAILED)`` when a
     check ran and failed (exit 1); never call ``sys.exit`` or print tracebacks;
  4. add a subprocess test in ``tests/`` using the ``run_cli`` fixture and a line in ``docs/cli.md``.
"""

from __future__ import annotations

import copy
import errno
import os
import sys
import traceback
from typing import TYPE_CHECKING, Annotated

import typer

from robosynth.cli.common import (
    DEBUG_ENV,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    click_abort_types,
    click_exception_types,
    debug_enabled,
    print_error,
    version_string,
)
from sim.errors import InputError

if TYPE_CHECKING:
    pass

app = typer.Typer(
    name=PROG,
    help="Declarative robot scenes on MuJoCo and PyBullet -> domain-randomized HDF5 episodes.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def _register_verbs() -> None:
    """Add every verb to ``app``, one module per verb group (their heavy imports stay inside the verbs)."""
    from robosynth.cli import data, evaluate, export, merge, preview, replay, report, scene

    app.command("scenes")(scene.scenes_cmd)
    app.command("schema")(scene.schema_cmd)
    app.command("validate")(scene.validate_cmd)
    app.command("generate")(data.generate_cmd)
    app.command("inspect")(data.inspect_cmd)
    app.command("verify")(data.verify_cmd)
    app.command("merge")(merge.merge_cmd)
    app.command("preview")(preview.preview_cmd)
    app.command("replay")(replay.replay_cmd)
    app.command("report")(report.report_cmd)
    app.command("export")(export.export_cmd)
    app.command("evaluate")(evaluate.evaluate_cmd)


_register_verbs()


# ------------------------------------------------------------------------------------------ entry


def invoke(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    try:
        rv = _app_for(sys.argv[1:] if argv is None else argv)(args=argv, prog_name=PROG, standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except InputError as exc:
        _debug_traceback()
        print_error(exc)
        return EXIT_BAD_INPUT
    except click_exception_types() as exc:  # usage errors: unknown option, missing argument, ...
        print_error(_usage_message(exc))
        return EXIT_BAD_INPUT
    except _interrupt_types():
        sys.stderr.write(f"\n{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # e.g. `robosynth schema | head`: stop quietly
            _silence_stdout()
            return EXIT_CHECK_FAILED
        return _internal_error(exc)
    except Exception as exc:
        return _internal_error(exc)


def _app_for(argv: list[str]) -> typer.Typer:
    """Return ``app``, or, when ``argv`` starts with a verb, a copy of it that holds only that verb.

    Each call turns every registered verb into a click command (type hints, parameters, ~10 ms for the dozen
    verbs); the named verb's parsing, help and errors are the same in the copy. Anything else (no verb, an option
    first, an unknown verb) gets the whole ``app``.
    """
    chosen = [c for c in app.registered_commands if argv and c.name == argv[0]]
    if not chosen:
        return app
    slim = copy.copy(app)
    slim.registered_commands = chosen
    return slim


def _interrupt_types() -> tuple[type[BaseException], ...]:
    """Return the exceptions that mean Ctrl-C: KeyboardInterrupt and click/typer's Abort."""
    return (KeyboardInterrupt, *click_abort_types())


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
    """Console-script entry point: run the CLI and exit with its code (without interpreter teardown).

    The command line renders headless, so it selects EGL before anything imports mujoco (unless ``MUJOCO_GL`` is
    set): mujoco picks its GL platform at import time, and its GLFW default would load libglfw for nothing (~25 ms)
    before ``renderers.mujoco_render.ensure_gl_backend`` switched to EGL anyway.

    It also keeps numpy's OpenBLAS to one thread (unless ``OPENBLAS_NUM_THREADS`` is set): OpenBLAS starts a
    thread per core when numpy loads, and they spin about 0.1 s of CPU there, in the fork server and in every pool
    worker, for matrices that are a few elements wide here (3 % of a ``generate`` command's CPU; robosynth's
    parallelism is one process per episode, docs/performance.md). numpy is first imported after this line: the
    command line's own modules import no numpy (tests/cli/test_startup.py). ``import robosynth.cli`` alone sets
    nothing.
    """
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from robosynth.cli.process_exit import exit_process

    exit_process(invoke())
