"""Crash-safe HDF5 writer of schema "1": one demo per episode file, byte-identical for identical inputs."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from h5py import h5d, h5g, h5p, h5s, h5t

from robosynth.dataset.chunks import is_direct_gzip, write_direct_gzip
from robosynth.dataset.files import atomic_path
from robosynth.dataset.records import (
    COMPRESSIONS,
    GZIP_LEVEL,
    LIBVER,
    NEXT_OBS_LAST,
    SCHEMA_VERSION,
    DatasetError,
    DatasetInfo,
    EpisodeRecord,
    canonical_record,
    episode_checksum,
    record_datasets,
    record_signature,
)
from sim.errors import InputError

# ---------------------------------------------------------------------------------------------- writer


def new_group(parent: h5py.Group, name: str) -> h5py.Group:
    """Create a group without timestamps, so identical inputs give byte-identical files."""
    gcpl = h5p.create(h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5g.create(parent.id, name.encode(), gcpl=gcpl))


@contextlib.contextmanager
def atomic_h5_file(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """Yield a new HDF5 file that appears at ``path`` only when complete (see :func:`atomic_path`)."""
    path = Path(path)
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise DatasetError(f"{path.parent}: not a writable directory")
    with atomic_path(path) as tmp, h5py.File(tmp, "w", libver=LIBVER) as f:
        yield f
        f.flush()


def write_data_attrs(data: h5py.Group, info: DatasetInfo, total: int, kind: str, created: str | None) -> None:
    """Write the ``data`` group attrs: total, env_args, schema version, writer version, creation time."""
    data.attrs["total"] = np.int64(total)
    data.attrs["env_args"] = info.env_args_json()
    data.attrs["robosynth_schema"] = SCHEMA_VERSION
    data.attrs["robosynth_version"] = info.robosynth_version
    data.attrs["robosynth_kind"] = kind
    data.attrs["created"] = created or datetime.now(timezone.utc).isoformat(timespec="seconds")


def _create_dataset(g: h5py.Group, rel: str, a: np.ndarray, filters: dict[str, Any]) -> None:
    if is_direct_gzip(a, filters):  # images: deflated without the GIL (ISA-L or zlib; robosynth.dataset.chunks)
        write_direct_gzip(g, rel, a, filters)
        return
    opts: dict[str, Any] = filters if a.size else {}
    chunks = (1, *a.shape[1:]) if a.ndim == 4 and a.size else (True if opts else None)
    g.create_dataset(rel, data=a, chunks=chunks, track_times=False, **opts)


def _create_next_obs_vds(g: h5py.Group, key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """next_obs/<key>[t] = obs/<key>[t+1] for t < T-1 and next_obs_last/<key>[0] for t = T-1, no copies."""
    T, rest = shape[0], shape[1:]
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    zeros = (0,) * len(rest)
    maps = [(0, f"{g.name}/obs/{key}", T, 1, T - 1), (T - 1, f"{g.name}/{NEXT_OBS_LAST}/{key}", 1, 0, 1)]
    for dst, src_name, src_len, src_start, count in maps:
        if count == 0:
            continue
        vspace = h5s.create_simple(shape)
        vspace.select_hyperslab((dst, *zeros), (count, *rest))
        src_space = h5s.create_simple((src_len, *rest))
        src_space.select_hyperslab((src_start, *zeros), (count, *rest))
        dcpl.set_virtual(vspace, b".", src_name.encode(), src_space)
    h5d.create(g["next_obs"].id, key.encode(), h5t.py_create(dtype), h5s.create_simple(shape), dcpl=dcpl)


def relink_next_obs(g: h5py.Group) -> None:
    """Point every image ``next_obs`` VDS of demo ``g`` at ``g``'s own obs (after a copy under a new name)."""
    for key in list(g.get("next_obs", {})):
        ds = g["next_obs"][key]
        if ds.is_virtual:
            shape, dtype = ds.shape, ds.dtype
            del g["next_obs"][key]
            _create_next_obs_vds(g, key, shape, dtype)


def compression_filters(compression: str | None) -> dict[str, Any]:
    """Return h5py dataset options for "gzip" (level 3 + shuffle, default), "lzf" (+ shuffle) or None."""
    if compression not in COMPRESSIONS:
        raise InputError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    if compression is None:
        return {}
    level = {"compression_opts": GZIP_LEVEL} if compression == "gzip" else {}
    return {"compression": compression, "shuffle": True, **level}


def write_demo(data: h5py.Group, ep: EpisodeRecord, filters: dict[str, Any]) -> None:
    """Write a canonical record as ``data/demo_<index>``: datasets, image next_obs VDS, cameras, attrs."""
    g = new_group(data, f"demo_{ep.index}")
    datasets = record_datasets(ep)
    for sub in ("obs", "next_obs", *([NEXT_OBS_LAST] if ep.final_images else []), "cameras"):
        new_group(g, sub)
    for cam in ep.cameras:
        new_group(g["cameras"], cam)
    for rel, a in datasets.items():
        _create_dataset(g, rel, a, filters)
    for key in ep.final_images:
        _create_next_obs_vds(g, key, ep.obs[key].shape, ep.obs[key].dtype)
    for cam, rec in ep.cameras.items():
        cg = g["cameras"][cam]
        for name in ("K", "width", "height", "distortion", "near", "far", "depth_units", "depth_kind"):
            cg.attrs[name] = getattr(rec, name)
    attrs = {"num_samples": np.int64(ep.num_steps), "seed": np.int64(ep.seed),
             "episode_index": np.int64(ep.index), "backend": ep.backend, "engine_version": ep.engine_version,
             "scene": ep.scene_name, "success": np.bool_(ep.success), "failure_reason": ep.failure_reason,
             "model_file": ep.model_file,
             "ep_meta": json.dumps(ep.ep_meta, sort_keys=True, allow_nan=False), "quality": ep.quality,
             "segmentation_ids": json.dumps({str(i): v for i, v in sorted(ep.segmentation_ids.items())},
                                            sort_keys=True),
             "checksum": episode_checksum(ep)}
    g.attrs.update(attrs)


def write_episode_file(path: str | os.PathLike[str], dataset_info: DatasetInfo, episode: EpisodeRecord,
                       compression: str | None = "gzip", *, image_next_obs: bool = True,
                       created: str | None = None) -> Path:
    """Validate ``episode`` and write it crash-safely as a one-demo robosynth file; return the path.

    ``image_next_obs=False`` is the opt-out that stores no image next_obs (and ignores ``final_images``).
    """
    write_episode(path, dataset_info, episode, compression, image_next_obs=image_next_obs, created=created)
    return Path(path)


def write_episode(path: str | os.PathLike[str], dataset_info: DatasetInfo, episode: EpisodeRecord,
                  compression: str | None = "gzip", *, image_next_obs: bool = True,
                  created: str | None = None) -> dict[str, Any]:
    """:func:`write_episode_file`, returning the written demo's ``demo_signature`` (for ``build_index``)."""
    filters = compression_filters(compression)
    ep = canonical_record(episode, image_next_obs)
    with atomic_h5_file(path) as f:
        data = new_group(f, "data")
        write_data_attrs(data, dataset_info, 1, "episode", created)
        write_demo(data, ep, filters)
    return record_signature(ep)


# ----------------------------------------------------------------------------------------------- files
