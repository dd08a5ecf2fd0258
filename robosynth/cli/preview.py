"""CLI verb ``preview``: contact sheets and videos of a dataset, or of a scene's cameras."""

from __future__ import annotations

from typing import Annotated

import typer

from robosynth.cli.common import out_console, resolve_backends
from robosynth.cli.scene import BackendOpt
from sim.errors import InputError


def preview_cmd(
    path: Annotated[str | None, typer.Argument(metavar="[PATH]", help="dataset directory or .hdf5 file")] = None,
    *,  # keyword-only from here: --out is required and has no default
    out: Annotated[str, typer.Option("--out", "-o", help="output .png/.jpg (.mp4 for a dataset PATH)")],
    scene: Annotated[str | None, typer.Option("--scene", help="preview a scene's cameras instead of a dataset")] = None,
    backend: BackendOpt = "mujoco",
    quality: Annotated[str, typer.Option("--quality", help="render preset: fast, default, high")] = "default",
    resolution: Annotated[str | None, typer.Option("--resolution", help="WIDTHxHEIGHT for every camera")] = None,
    seed: Annotated[int, typer.Option("--seed", help="dataset seed: the layout of its episode 0")] = 0,
    episodes: Annotated[int, typer.Option("--episodes", help="dataset episodes to show")] = 3,
    frames: Annotated[int, typer.Option("--frames", help="steps per episode on a contact sheet")] = 4,
    pointcloud: Annotated[int | None, typer.Option(
        "--pointcloud", metavar="N",
        help="with --scene: also the cameras' fused N-point cloud, top-down and side")] = None,
) -> None:
    """Contact sheet / video of RGB, colourised depth and segmentation of a dataset or a scene's cameras."""
    from renderers.camera import parse_resolution
    from robosynth.viz import preview

    if scene is not None and path is None:
        res = None if resolution is None else parse_resolution(resolution)
        written = preview.preview_scene(scene, resolve_backends(backend), out, quality, res, seed, pointcloud)
    elif path is not None and scene is None:
        if pointcloud is not None:
            raise InputError("--pointcloud previews a scene's cameras: use it with --scene")
        written = preview.preview_dataset(path, out, episodes, frames)
    else:
        raise InputError("give either a dataset PATH or --scene SCENE")
    out_console().print(f"wrote {written}")
