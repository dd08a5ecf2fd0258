"""Shared pytest fixtures: run the real ``robosynth`` command or a Python snippet in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

from sim.backend import BACKEND_NAMES

REPO_ROOT = Path(__file__).resolve().parent.parent


class CliResult(NamedTuple):
    """Exit code and decoded output of one subprocess run."""

    rc: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        """Return the non-empty stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def _child_env(extra: Mapping[str, str | None] | None) -> dict[str, str]:
    """Return a stable environment for children: wide plain output, no debug tracebacks."""
    env = dict(os.environ)
    env.pop("ROBOSYNTH_DEBUG", None)
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(cmd: list[str], cwd: Path | None, env: Mapping[str, str | None] | None, timeout: float) -> CliResult:
    """Run ``cmd`` and return its CliResult (decoding invalid bytes as replacement characters)."""
    proc = subprocess.run(
        cmd,
        cwd=cwd or REPO_ROOT,
        env=_child_env(env),
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli() -> RunCli:
    """Return ``run_cli(*args, cwd=None, env=None, timeout=300)`` running ``python -m robosynth``."""

    def run(
        *args: str | os.PathLike[str],
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 300,
    ) -> CliResult:
        return _run([sys.executable, "-m", "robosynth", *map(str, args)], cwd, env, timeout)

    return run


@pytest.fixture
def run_python() -> RunCli:
    """Return ``run_python(code, cwd=None, env=None, timeout=300)`` running ``python -c code``."""

    def run(
        code: str,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 300,
    ) -> CliResult:
        return _run([sys.executable, "-c", code], cwd, env, timeout)

    return run


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> str:
    """Each registered engine in turn (``sim.backend.BACKEND_NAMES``): a test taking ``backend`` runs on all."""
    return str(request.param)
