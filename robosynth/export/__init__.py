"""``robosynth export``: a robosynth dataset as a LeRobotDataset v3.0 or a Minari dataset (docs/export.md).

Modules: ``common`` (errors, optional-extra check, staged output) -> ``source`` (the dataset read) ->
``lerobot_stats``, ``lerobot_video``, ``lerobot_features`` -> ``lerobot``; ``minari``. The writers need the
``[export]`` extra (pyarrow, PyAV, Pillow, minari), imported only when an export runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robosynth.export.common import (
    FORMATS,
    IMAGE_MODES,
    ExportError,
    Progress,
    check_format,
    check_out_dir,
    dir_size,
    require_modules,
    staged_output,
)
from robosynth.export.source import Source, open_source

__all__ = ["FORMATS", "IMAGE_MODES", "ExportError", "ExportResult", "Source", "export_dataset", "open_source",
           "prepare_export"]

_NEEDS = {"lerobot": ("pyarrow", "pyarrow.parquet", "av", "PIL"), "minari": ("minari", "pyarrow", "PIL")}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: where, how many episodes and frames, its size, and the Minari id if any."""

    out: Path
    format: str
    episodes: int
    frames: int
    bytes_on_disk: int
    source_bytes: int
    dataset_id: str | None = None


def prepare_export(source: Path, out: Path, fmt: str, images: str = "video") -> Source:
    """Check every argument (format, extra installed, source, output directory); return the scanned source."""
    check_format(fmt, images)
    if fmt == "minari" and images != "video":
        raise ExportError("--images applies to --format lerobot only (Minari images are always lossless arrays)")
    require_modules(*_NEEDS[fmt])
    src = open_source(source)
    check_out_dir(out, source)
    return src


def export_dataset(src: Source, out: Path, fmt: str, images: str = "video",
                   progress: Progress | None = None) -> ExportResult:
    """Export a prepared source into ``out`` (staged in a sibling directory, renamed into place when complete)."""
    ds_id = None
    with staged_output(out) as stage:
        if fmt == "lerobot":
            from robosynth.export.lerobot import export_lerobot

            export_lerobot(src, stage, images, progress)
        else:
            from robosynth.export.minari import export_minari

            ds_id = export_minari(src, stage, progress)
    return ExportResult(out=out, format=fmt, episodes=src.num_episodes, frames=src.total_frames,
                        bytes_on_disk=dir_size(out), source_bytes=src.bytes_on_disk, dataset_id=ds_id)
