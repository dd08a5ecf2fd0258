"""Reading robosynth HDF5 files: open with schema checks, demos, episodes, dataset-wide info."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import h5py
import numpy as np

from robosynth.dataset.layout import INDEX_FILENAME, list_episode_files
from robosynth.dataset.records import (
    NEXT_OBS_LAST,
    SCHEMA_VERSION,
    CameraRecord,
    DatasetError,
    DatasetInfo,
    EpisodeRecord,
    is_lowdim_key,
)

_DEMO_RE = re.compile(r"^demo_(\d+)$")


@contextlib.contextmanager
def open_dataset_file(path: str | os.PathLike[str], *, check_schema: bool = True) -> Iterator[h5py.File]:
    """Open a robosynth HDF5 file read-only; raise DatasetError if missing, not HDF5, truncated or foreign."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: " + ("is a directory, not an HDF5 file" if p.is_dir() else "no such file"))
    try:
        is_hdf5 = h5py.is_hdf5(p)
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise DatasetError(f"{p}: not an HDF5 file")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise DatasetError(f"{p}: unreadable or truncated HDF5 file") from exc
    with f:
        data = f.get("data")
        if not isinstance(data, h5py.Group) or "robosynth_schema" not in data.attrs:
            raise DatasetError(f"{p}: foreign HDF5 file (no data/robosynth_schema attribute)")
        schema = data.attrs["robosynth_schema"]
        if check_schema and schema != SCHEMA_VERSION:
            raise DatasetError(f"{p}: unsupported robosynth_schema {schema!r} (this version reads "
                               f"{SCHEMA_VERSION!r})")
        yield f


def demo_number(name: str) -> int | None:
    """Return the integer suffix of a ``demo_<int>`` name, else None."""
    m = _DEMO_RE.match(name)
    return int(m.group(1)) if m else None


def demo_names(data: h5py.Group) -> list[str]:
    """Return the ``demo_<int>`` members of a ``data`` group, sorted by their integer suffix."""
    return sorted((n for n in data if demo_number(n) is not None), key=lambda n: demo_number(n) or 0)


def read_dataset_info(path: str | os.PathLike[str]) -> DatasetInfo:
    """Return the DatasetInfo stored in a robosynth file's ``data`` attrs (env_args, writer version)."""
    with open_dataset_file(path) as f:
        attrs = f["data"].attrs
        try:
            args = json.loads(attrs["env_args"])
            return DatasetInfo(env_name=args["env_name"], env_version=args["env_version"],
                               env_kwargs=args["env_kwargs"],
                               robosynth_version=str(attrs["robosynth_version"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise DatasetError(f"{path}: bad data attrs ({exc})") from exc


def _read_camera(name: str, g: h5py.Group) -> CameraRecord:
    a = g.attrs
    return CameraRecord(name=name, K=np.asarray(a["K"], np.float64), width=int(a["width"]),
                        height=int(a["height"]), distortion=np.asarray(a["distortion"], np.float64),
                        near=float(a["near"]), far=float(a["far"]), depth_units=str(a["depth_units"]),
                        depth_kind=str(a["depth_kind"]), T_world_cam=g["T_world_cam"][()])


def read_demo(g: h5py.Group) -> EpisodeRecord:
    """Return the EpisodeRecord of an open ``demo_<i>`` group (image next_obs are views, not read)."""
    try:
        a = g.attrs
        next_g = g.get("next_obs", {})
        return EpisodeRecord(
            index=int(a["episode_index"]), seed=int(a["seed"]), backend=str(a["backend"]),
            engine_version=str(a["engine_version"]), scene_name=str(a["scene"]), success=bool(a["success"]),
            failure_reason=str(a["failure_reason"]), model_file=str(a["model_file"]),
            ep_meta=json.loads(a["ep_meta"]), actions=g["actions"][()], rewards=g["rewards"][()],
            dones=g["dones"][()], states=g["states"][()], obs={k: d[()] for k, d in g["obs"].items()},
            next_obs_lowdim={k: next_g[k][()] for k in next_g if is_lowdim_key(k)},
            cameras={c: _read_camera(c, cg) for c, cg in g.get("cameras", {}).items()},
            segmentation_ids={int(i): v for i, v in json.loads(a["segmentation_ids"]).items()},
            quality=str(a["quality"]),
            final_images={k: d[()] for k, d in g.get(NEXT_OBS_LAST, {}).items()})
    except (KeyError, OSError, ValueError, TypeError) as exc:
        raise DatasetError(f"{g.file.filename}:{g.name}: cannot read episode ({exc})") from exc


def demo_group(f: h5py.File, name: str) -> h5py.Group:
    """Return ``data/<name>`` of an open file; raise DatasetError if it or its external link target is missing."""
    try:
        return f["data"][name]
    except (KeyError, OSError) as exc:
        raise DatasetError(f"{f.filename}:/data/{name}: missing or broken link") from exc


def read_episode(path_or_group: str | os.PathLike[str] | h5py.Group,
                 demo: str | None = None) -> EpisodeRecord:
    """Return one episode from a demo group, or from a file (its only demo, or the one named ``demo``)."""
    if isinstance(path_or_group, h5py.Group):
        return read_demo(path_or_group)
    with open_dataset_file(path_or_group) as f:
        names = demo_names(f["data"])
        if demo is None and len(names) != 1:
            raise DatasetError(f"{path_or_group}: holds {len(names)} demos; name the one to read")
        name = demo or names[0]
        if name not in names:
            raise DatasetError(f"{path_or_group}: no data/{name}")
        return read_demo(demo_group(f, name))


def iter_episodes(path: str | os.PathLike[str]) -> Generator[EpisodeRecord, None, None]:
    """Yield every episode of a file (sorted demos) or of a dataset directory (sorted episode files)."""
    p = Path(path)
    if p.is_dir():
        files = list_episode_files(p)
        if not files and not (p / INDEX_FILENAME).is_file():
            raise DatasetError(f"{p}: not a robosynth dataset directory")
        for f in (files.values() if files else [p / INDEX_FILENAME]):
            yield from iter_episodes(f)
        return
    with open_dataset_file(p) as f:
        for name in demo_names(f["data"]):
            yield read_demo(demo_group(f, name))


# ------------------------------------------------------------------------------------------ directories
