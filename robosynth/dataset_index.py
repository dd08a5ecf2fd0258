"""HDF5 I/O of schema "1": crash-safe writer, reader, dataset directories, external-link index, resume.

A dataset directory holds ``episodes/ep_<index:06d>.hdf5`` (one ``data/demo_<index>`` each, written by
:func:`write_episode_file`) plus ``dataset.hdf5``, whose ``data/demo_<index>`` are HDF5 external links to
those groups, so robomimic-style readers open one file. Import these names from ``robosynth.schema``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from h5py import h5d, h5g, h5p, h5s, h5t

from robosynth.schema import (
    COMPRESSIONS,
    GZIP_LEVEL,
    LIBVER,
    NEXT_OBS_LAST,
    SCHEMA_VERSION,
    CameraRecord,
    DatasetError,
    DatasetInfo,
    EpisodeRecord,
    canonical_record,
    episode_checksum,
    image_key_parts,
    record_datasets,
)
from sim.errors import InputError

INDEX_FILENAME = "dataset.hdf5"
EPISODES_DIRNAME = "episodes"
_EP_RE = re.compile(r"^ep_(\d+)\.hdf5$")
_TMP_RE = re.compile(r"\.tmp-\d+$")
_DEMO_RE = re.compile(r"^demo_(\d+)$")

# ---------------------------------------------------------------------------------------------- writer


def new_group(parent: h5py.Group, name: str) -> h5py.Group:
    """Create a group without timestamps, so identical inputs give byte-identical files."""
    gcpl = h5p.create(h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5g.create(parent.id, name.encode(), gcpl=gcpl))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_path_for(path: Path) -> Path:
    """Return the temporary name ``<path>.tmp-<pid>`` a file is written under before its atomic rename."""
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def atomic_h5_file(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """Yield a new HDF5 file that appears at ``path`` only when complete (tmp, flush, fsync, rename)."""
    path = Path(path)
    tmp = tmp_path_for(path)
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise DatasetError(f"{path.parent}: not a writable directory")
    try:
        with h5py.File(tmp, "w", libver=LIBVER) as f:
            yield f
            f.flush()
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_data_attrs(data: h5py.Group, info: DatasetInfo, total: int, kind: str, created: str | None) -> None:
    """Write the ``data`` group attrs: total, env_args, schema version, writer version, creation time."""
    data.attrs["total"] = np.int64(total)
    data.attrs["env_args"] = info.env_args_json()
    data.attrs["robosynth_schema"] = SCHEMA_VERSION
    data.attrs["robosynth_version"] = info.robosynth_version
    data.attrs["robosynth_kind"] = kind
    data.attrs["created"] = created or datetime.now(timezone.utc).isoformat(timespec="seconds")


def _create_dataset(g: h5py.Group, rel: str, a: np.ndarray, filters: dict[str, Any]) -> None:
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
    filters = compression_filters(compression)
    ep = canonical_record(episode, image_next_obs)
    with atomic_h5_file(path) as f:
        data = new_group(f, "data")
        write_data_attrs(data, dataset_info, 1, "episode", created)
        write_demo(data, ep, filters)
    return Path(path)


# ----------------------------------------------------------------------------------------------- files


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
            next_obs_lowdim={k: next_g[k][()] for k in next_g if image_key_parts(k) is None},
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


def iter_episodes(path: str | os.PathLike[str]) -> Iterator[EpisodeRecord]:
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


def episode_path(dataset_dir: str | os.PathLike[str], index: int) -> Path:
    """Return where episode ``index`` of a dataset directory is stored."""
    return Path(dataset_dir) / EPISODES_DIRNAME / f"ep_{index:06d}.hdf5"


def list_episode_files(dataset_dir: str | os.PathLike[str]) -> dict[int, Path]:
    """Return finished episode files (temporary files excluded) by episode index, sorted."""
    ep_dir = Path(dataset_dir) / EPISODES_DIRNAME
    if not ep_dir.is_dir():
        return {}
    found = {int(m.group(1)): e for e in ep_dir.iterdir() if (m := _EP_RE.match(e.name)) and e.is_file()}
    return dict(sorted(found.items()))


def tmp_files(dataset_dir: str | os.PathLike[str]) -> list[Path]:
    """Return leftover ``*.tmp-<pid>`` files of interrupted writes in a dataset directory."""
    d = Path(dataset_dir)
    dirs = [d, d / EPISODES_DIRNAME]
    return sorted(e for sub in dirs if sub.is_dir() for e in sub.iterdir() if _TMP_RE.search(e.name))


def dataset_dir_kind(path: str | os.PathLike[str]) -> str:
    """Return "absent", "empty", "robosynth" (index or episodes/ present) or "foreign" for an output path."""
    p = Path(path)
    if not p.exists():
        return "absent"
    if not p.is_dir():
        return "foreign"
    if not [e for e in p.iterdir() if not e.name.startswith(".")]:
        return "empty"
    index = p / INDEX_FILENAME
    if index.exists():
        try:
            with open_dataset_file(index, check_schema=False):
                return "robosynth"
        except DatasetError:
            return "foreign"
    ep_dir = p / EPISODES_DIRNAME
    if ep_dir.is_dir() and all(_EP_RE.match(e.name) or _TMP_RE.search(e.name) for e in ep_dir.iterdir()):
        return "robosynth"
    return "foreign"


def is_robosynth_dataset(path: str | os.PathLike[str]) -> bool:
    """Return True if ``path`` is a robosynth dataset directory (index file or episodes/ of ours)."""
    return dataset_dir_kind(path) == "robosynth"


def completed_episode_indices(dataset_dir: str | os.PathLike[str], *, remove_tmp: bool = True) -> set[int]:
    """Return indices of complete, readable episodes after deleting leftover tmp files (before writers)."""
    if remove_tmp:
        for tmp in tmp_files(dataset_dir):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    done = set()
    for index, path in list_episode_files(dataset_dir).items():
        try:
            with open_dataset_file(path) as f:
                if demo_names(f["data"]) == [f"demo_{index}"]:
                    done.add(index)
        except DatasetError:
            continue  # unreadable: not complete, it will be rewritten
    return done


def split_demos(names: list[str], train_ratio: float = 0.9,
                split_seed: int = 0) -> tuple[list[str], list[str]]:
    """Return deterministic (train, valid) demo-name lists, a fixed function of the names and the ratio.

    round(n * train_ratio) names go to train, except that with n >= 2 and 0 < train_ratio < 1 each side
    keeps at least one demo (robomimic's ``filter_by_attribute="valid"`` refuses an empty mask).
    """
    if not 0.0 <= train_ratio <= 1.0:
        raise InputError(f"train_ratio must be within [0, 1], got {train_ratio}")
    ordered = sorted(names, key=lambda n: demo_number(n) or 0)
    perm = np.random.default_rng(split_seed).permutation(len(ordered))
    n_train = int(np.floor(len(ordered) * train_ratio + 0.5))
    if len(ordered) >= 2 and 0.0 < train_ratio < 1.0:
        n_train = min(max(n_train, 1), len(ordered) - 1)
    train = {ordered[i] for i in perm[:n_train]}
    return [n for n in ordered if n in train], [n for n in ordered if n not in train]


def demo_signature(g: h5py.Group) -> dict[str, Any]:
    """Return per-step shapes and dtypes of a demo's actions, obs and next_obs (equal across demos)."""
    sig: dict[str, Any] = {"actions": (g["actions"].shape[1:], g["actions"].dtype.str)}
    for sub in ("obs", "next_obs"):
        for k, d in g.get(sub, {}).items():
            sig[f"{sub}/{k}"] = (d.shape[1:], d.dtype.str)
    return sig


def build_index(dataset_dir: str | os.PathLike[str], dataset_info: DatasetInfo, train_ratio: float = 0.9,
                split_seed: int = 0, *, created: str | None = None) -> Path:
    """Write ``dataset.hdf5`` atomically: external links to every episode's demo, mask/train, mask/valid."""
    d = Path(dataset_dir)
    files = list_episode_files(d)
    if not files:
        raise DatasetError(f"{d}: no episode files under {EPISODES_DIRNAME}/")
    want_args = json.loads(dataset_info.env_args_json())
    ref: tuple[dict[str, Any], str] | None = None
    for index, path in files.items():
        with open_dataset_file(path) as f:
            data = f["data"]
            if demo_names(data) != [f"demo_{index}"]:
                raise DatasetError(f"{path}: expected exactly one demo_{index}")
            if json.loads(data.attrs["env_args"]) != want_args:
                raise DatasetError(f"{path}: env_args differ from the dataset's ({dataset_info.env_name})")
            sig = demo_signature(data[f"demo_{index}"])
        if ref is None:
            ref = (sig, path.name)
        elif sig != ref[0]:
            raise DatasetError(f"{path}: obs keys/shapes differ from {ref[1]} (robomimic needs equal keys)")
    names = [f"demo_{i}" for i in files]
    train, valid = split_demos(names, train_ratio, split_seed)
    with atomic_h5_file(d / INDEX_FILENAME) as f:
        data = new_group(f, "data")
        write_data_attrs(data, dataset_info, len(names), "index", created)
        for (index, path), name in zip(files.items(), names, strict=True):
            data[name] = h5py.ExternalLink(f"{EPISODES_DIRNAME}/{path.name}", f"/data/demo_{index}")
        mask = new_group(f, "mask")
        for key, members in (("train", train), ("valid", valid)):
            mask.create_dataset(key, data=np.array(members, dtype="S"), track_times=False)
    return d / INDEX_FILENAME
