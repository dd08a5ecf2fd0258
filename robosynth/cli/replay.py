"""CLI verb ``replay`` (registered in robosynth.cli)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from robosynth.cli.common import EXIT_CHECK_FAILED, out_console
from sim.errors import InputError


def replay_cmd(
    path: Annotated[Path, typer.Argument(help="dataset directory or .hdf5 file")],
    episode: Annotated[int, typer.Option("--episode", "-k", help="episode index to replay")] = 0,
    backend: Annotated[str | None, typer.Option(
        "--backend", "-b", help="engine to replay on (default: the recording engine)")] = None,
    per_step: Annotated[bool, typer.Option("--per-step", help="print the divergence of every step")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Re-execute an episode's recorded actions and report the state divergence per step."""
    from robosynth.replay import find_episode, replay_episode
    from sim.backend import BACKENDS

    if backend is not None and backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}' (choose from: {', '.join(BACKENDS)})")
    if not path.exists():
        raise InputError(f"'{path}' does not exist")
    report = replay_episode(find_episode(path, episode), backend)
    summary = report.summary()
    console = out_console()
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        from rich.table import Table

        t = Table(title=f"replay of episode {episode}: {report.recorded_backend} -> {report.replay_backend}",
                  show_header=False)
        for k, v in summary.items():
            t.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
        console.print(t)
    if per_step:
        for i in range(report.steps):
            console.print(f"{i:4d} eef {report.eef_error[i]:.6f} m  object {report.object_error[i]:.6f} m  "
                          f"joints {report.joint_error[i]:.6f} rad", markup=False)
    if report.replay_backend == report.recorded_backend and not report.exact:
        console.print("replay on the recording engine diverged: the episode is not reproducible", markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
