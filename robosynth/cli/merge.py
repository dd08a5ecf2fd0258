"""CLI verb ``merge``: combine compatible datasets into one directory (registered in robosynth.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robosynth.cli.common import out_console
from sim.errors import InputError


def merge_cmd(
    sources: Annotated[list[Path], typer.Argument(metavar="A B ...", help="dataset directories to combine")],
    out: Annotated[Path, typer.Option("--out", "-o", help="new dataset directory (absent or empty)")],
    valid_ratio: Annotated[float, typer.Option(
        "--valid-ratio", help="share of demos in the merged mask/valid (0 <= r < 1)")] = 0.1,
) -> None:
    """Combine datasets recorded with the same options; duplicate (seed, episode) pairs are refused."""
    from robosynth.generate.merge import merge_datasets

    if not 0.0 <= valid_ratio < 1.0:
        raise InputError(f"--valid-ratio must be >= 0 and < 1, got {valid_ratio:g}")
    summary = merge_datasets(sources, out, train_ratio=1.0 - valid_ratio)
    parts = " + ".join(str(n) for n in summary.per_source.values())
    out_console().print(f"merged {len(summary.per_source)} datasets ({parts} episodes) into '{out}': "
                        f"{summary.total} episodes; index {out / 'dataset.hdf5'}", markup=False, soft_wrap=True)
