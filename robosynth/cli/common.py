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
from typing import TYPE_CHECKING

from sim.backend_names import BACKENDS
from sim.errors import BackendError

if TYPE_CHECKING:
    from rich.console import Console

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
    from rich.console import Console  # ~20 ms of imports: only for the verbs that print through it

    return Console(highlight=False)


def err_console() -> Console:
    """Return a rich console on stderr, for progress and warnings."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def may_be_terminal(stream: object) -> bool:
    """Return False when rich would surely treat ``stream`` as no terminal (not a TTY, no FORCE_TERMINAL or
    TTY_COMPATIBLE), so that plain output can skip importing rich."""
    isatty = getattr(stream, "isatty", None)
    forced = any(os.environ.get(v) for v in ("FORCE_TERMINAL", "TTY_COMPATIBLE", "TTY_INTERACTIVE"))
    return forced or (callable(isatty) and bool(isatty()))


def print_plain(text: str, err: bool = False) -> None:
    """Print one line of plain text (no markup, no wrapping) on stdout or stderr, through rich only on a terminal."""
    stream = sys.stderr if err else sys.stdout
    if may_be_terminal(stream):
        (err_console() if err else out_console()).print(text, markup=False, soft_wrap=True)
    else:
        print(text, file=stream, flush=True)


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
