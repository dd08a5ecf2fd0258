"""Small helpers shared by the CLI verbs: exit codes, error lines, consoles, flag parsing.

Nothing here imports an engine; the library never imports this module.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import platform
import sys
from collections.abc import Callable, Iterator

from rich.console import Console

from sim.backend import BACKENDS
from sim.errors import BackendError

PROG = "robosynth"
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check ran and found problems (verify, replay divergence), or an internal error
EXIT_BAD_INPUT = 2  # bad scene, flag, path, asset, backend, HDF5 file
EXIT_INTERRUPTED = 130  # Ctrl-C
DEBUG_ENV = "ROBOSYNTH_DEBUG"


def debug_enabled() -> bool:
    """Return True when ROBOSYNTH_DEBUG asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def one_line(message: object) -> str:
    """Return ``message`` as a single line (inner newlines joined with '; ')."""
    parts = [p.strip() for p in str(message).splitlines() if p.strip()]
    return "; ".join(parts) or "unknown error"


def print_error(message: object) -> None:
    """Print ``robosynth: error: <message>`` as one line on stderr."""
    sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
    sys.stderr.flush()


def out_console() -> Console:
    """Return a rich console on stdout (plain text when not a terminal)."""
    return Console(highlight=False)


def err_console() -> Console:
    """Return a rich console on stderr, for progress and warnings."""
    return Console(stderr=True, highlight=False)


@contextlib.contextmanager
def gc_paused_for_startup() -> Iterator[Callable[[], None]]:
    """Pause the cyclic garbage collector while a verb imports and sets up; yield ``end()``, called when it is set up.

    Start-up builds hundreds of thousands of long-lived objects (modules, pydantic schemas) and almost no
    garbage (a few hundred objects in cycles over a whole ``generate`` run), yet the collector would walk them
    again and again (~50 ms of CPU, one full pass alone ~30 ms). ``end()`` moves everything allocated so far into
    the permanent generation (``gc.freeze``) and resumes collection, so later passes only look at what came
    after. Leaving the block resumes collection too (without freezing) if ``end()`` was not reached.
    """
    was_enabled = gc.isenabled()
    gc.disable()

    def end() -> None:
        if was_enabled and not gc.isenabled():
            gc.freeze()
            gc.enable()

    try:
        yield end
    finally:
        if was_enabled:
            gc.enable()


def resolve_backends(choice: str) -> tuple[str, ...]:
    """Return the backend names selected by a ``--backend`` value (a name or ``all``)."""
    value = choice.strip().lower()
    if value == "all":
        return BACKENDS
    if value in BACKENDS:
        return (value,)
    raise BackendError(f"unknown backend '{choice}' (choose from: {', '.join((*BACKENDS, 'all'))})")


def _dist_version(name: str) -> str:
    from importlib import metadata  # only --version reads it (importlib.metadata costs ~10 ms of start-up)

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_string() -> str:
    """Return ``robosynth X (mujoco Y, pybullet Z, Python V)``, read from metadata (no engine import)."""
    engines = ", ".join(f"{n} {_dist_version(n)}" for n in BACKENDS)  # the engines' PyPI names are theirs
    return f"{PROG} {_dist_version(PROG)} ({engines}, Python {platform.python_version()})"


def _classes(modules: tuple[str, ...], name: str) -> tuple[type[BaseException], ...]:
    """Return the exception class ``name`` from each of ``modules`` that imports and defines it."""
    found: list[type[BaseException]] = []
    for mod in modules:
        try:
            found.append(getattr(importlib.import_module(mod), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def click_exception_types() -> tuple[type[BaseException], ...]:
    """Return click's ClickException classes (typer vendors click from 0.2x; older typer uses click)."""
    return _classes(("typer._click.exceptions", "click.exceptions"), "ClickException")


def click_abort_types() -> tuple[type[BaseException], ...]:
    """Return the Abort classes raised by click/typer on Ctrl-C in non-standalone mode."""
    return _classes(("typer.exceptions", "click.exceptions"), "Abort")
