"""CLI verb ``export`` (registered in robosynth.cli): a thin shell over :mod:`robosynth.export`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from robosynth.cli.common import err_console, out_console


def export_cmd(
    data: Annotated[Path, typer.Argument(metavar="DATA", help="robosynth dataset directory (or one of its files)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="lerobot (LeRobotDataset v3.0) or minari")],
    out: Annotated[Path, typer.Option("--out", "-o", help="new (or empty) output directory")],
    images: Annotated[str, typer.Option(
        "--images", help="lerobot RGB: video (mp4, LeRobot's codec, lossy) or png (lossless, inside parquet)")]
    = "video",
) -> None:
    """Export a dataset to LeRobot v3.0 or Minari (written aside, renamed into place when complete)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from robosynth.export import export_dataset, prepare_export

    src = prepare_export(data, out, fmt, images)
    console = err_console()
    t0 = time.perf_counter()
    with Progress(TextColumn(f"[bold]export {fmt}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console, transient=False,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task("frames", total=src.total_frames, info="")

        def on_frames(n: int) -> None:
            done = progress.tasks[0].completed + n
            rate = done / max(1e-9, time.perf_counter() - t0)
            progress.update(task, advance=n, info=f"{rate:.0f} frames/s")

        result = export_dataset(src, out, fmt, images, progress=on_frames)
    ratio = result.bytes_on_disk / result.source_bytes if result.source_bytes else float("nan")
    where = f" as {result.dataset_id} (load with MINARI_DATASETS_PATH={out})" if result.dataset_id else ""
    out_console().print(
        f"exported {result.episodes} episodes, {result.frames} frames to '{out}'{where}: "
        f"{result.bytes_on_disk / 1e6:.1f} MB ({ratio:.2f}x the source)", markup=False, soft_wrap=True)
