"""Checks and summaries of robosynth HDF5 files and dataset directories (``verify`` / ``inspect``)."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robosynth.dataset.index import dataset_dir_kind, demo_signature
from robosynth.dataset.layout import EPISODES_DIRNAME, INDEX_FILENAME, list_episode_files, tmp_files
from robosynth.dataset.reader import demo_group, demo_names, demo_number, open_dataset_file
from robosynth.dataset.records import (
    DEPTH_UNITS,
    ENV_TYPE_GYM,
    IMAGE_SUFFIXES,
    NEXT_OBS_LAST,
    POINTCLOUD_KEYS,
    SCHEMA_VERSION,
    DatasetError,
    count_bad_depth,
    count_nonfinite,
    hash_dataset,
    image_key_parts,
    intrinsics_problem,
    is_lowdim_key,
    rigid_transform_problem,
    unknown_segmentation_ids,
)

Report = Callable[[str, str], None]
_BLOCK = 32  # frames read at once when streaming datasets
_DEMO_ATTRS: dict[str, type | tuple[type, ...]] = {
    "num_samples": np.integer, "seed": np.integer, "episode_index": np.integer, "backend": str,
    "engine_version": str, "scene": str, "success": np.bool_, "failure_reason": str, "model_file": str,
    "ep_meta": str, "quality": str, "segmentation_ids": str, "checksum": str}
_CAMERA_ATTRS = ("K", "width", "height", "distortion", "near", "far", "depth_units", "depth_kind")


def verify_path(path: str | os.PathLike[str]) -> list[str]:
    """Return every problem found in a robosynth file or dataset directory (empty list = valid)."""
    p = Path(path)
    if p.is_dir():
        return _verify_dir(p)
    with open_dataset_file(p, check_schema=False) as f:
        return verify_file(f, p.name)


def _verify_dir(d: Path) -> list[str]:
    if dataset_dir_kind(d) != "robosynth":
        raise DatasetError(f"{d}: not a robosynth dataset directory")
    problems = [f"{t.relative_to(d)}: leftover temporary file of an interrupted write" for t in tmp_files(d)]
    files = list_episode_files(d)
    for index, path in files.items():
        label = f"{EPISODES_DIRNAME}/{path.name}"
        try:
            with open_dataset_file(path, check_schema=False) as f:
                problems += verify_file(f, label)
                if demo_names(f["data"]) != [f"demo_{index}"]:
                    problems.append(f"{label}: must hold exactly one data/demo_{index}")
        except DatasetError as exc:
            problems.append(str(exc))
    index_file = d / INDEX_FILENAME
    if not index_file.is_file():
        return [*problems, f"{INDEX_FILENAME}: missing (the index is built when generation finishes)"]
    try:
        with open_dataset_file(index_file, check_schema=False) as f:
            problems += verify_file(f, INDEX_FILENAME, deep=False)
            linked = set(demo_names(f["data"]))
    except DatasetError as exc:
        return [*problems, str(exc)]
    if missing := sorted({f"demo_{i}" for i in files} - linked, key=lambda n: demo_number(n) or 0):
        problems.append(f"{INDEX_FILENAME}: episodes not in the index: {', '.join(missing[:10])}")
    return problems


def verify_file(f: h5py.File, label: str, deep: bool = True) -> list[str]:
    """Return the problems of an open robosynth file; ``deep`` also streams every dataset's values."""
    problems: list[str] = []

    def report(where: str, msg: str) -> None:
        problems.append(f"{label}:{where}: {msg}")

    data = f["data"]
    schema = data.attrs.get("robosynth_schema")
    if schema != SCHEMA_VERSION:
        return [f"{label}: unsupported robosynth_schema {schema!r} (expected {SCHEMA_VERSION!r})"]
    _check_data_attrs(data, report)
    demos = demo_names(data)
    for name in sorted(set(data) - set(demos)):
        report(f"/data/{name}", "member is not named demo_<int>")
    total = data.attrs.get("total")
    if total != len(demos):
        report("/data", f"attr total={total} but the file holds {len(demos)} demos")
    _check_masks(f, demos, report)
    signatures: dict[str, dict[str, Any]] = {}
    for name in demos:
        try:
            g = data[name]
        except (KeyError, OSError):
            report(f"/data/{name}", "broken link: the episode file or its demo group is missing")
            continue
        signatures[name] = _verify_demo(g, name, report, deep)
    if signatures:
        ref_name, ref = next(iter(signatures.items()))
        for name, sig in signatures.items():
            if sig != ref:
                report(f"/data/{name}", f"keys, shapes or dtypes differ from {ref_name} (robomimic)")
    return problems


def _check_data_attrs(data: h5py.Group, report: Report) -> None:
    a = data.attrs
    for name in ("total", "env_args", "robosynth_version", "created"):
        if name not in a:
            report("/data", f"missing attr {name}")
    try:
        args = json.loads(a.get("env_args", "{}"))
        if not isinstance(args.get("env_name"), str) or args.get("type") != ENV_TYPE_GYM or \
                "env_version" not in args or not isinstance(args.get("env_kwargs"), dict):
            report("/data", "env_args must hold env_name, type 2, env_version and env_kwargs")
    except (TypeError, ValueError, AttributeError):
        report("/data", "env_args is not a JSON object")
    try:
        datetime.fromisoformat(str(a.get("created", "")))
    except ValueError:
        report("/data", f"created {a.get('created')!r} is not ISO 8601")


def _check_masks(f: h5py.File, demos: list[str], report: Report) -> None:
    mask = f.get("mask")
    is_index = f["data"].attrs.get("robosynth_kind") == "index"
    if is_index and (mask is None or not {"train", "valid"} <= set(mask)):
        report("/mask", "an index file needs mask/train and mask/valid")
    for key, ds in (mask or {}).items():
        if ds.dtype.kind != "S":
            report(f"/mask/{key}", f"dtype {ds.dtype} is not a byte-string array")
            continue
        if missing := sorted({n.decode() for n in ds[()]} - set(demos)):
            report(f"/mask/{key}", f"names not in data: {', '.join(missing[:10])}")


def _shape_problem(ds: h5py.Dataset, dtype: Any, shape: tuple[int | None, ...]) -> str | None:
    if ds.dtype != np.dtype(dtype):
        return f"dtype {ds.dtype}, expected {np.dtype(dtype)}"
    if ds.ndim != len(shape) or any(s not in (None, n) for s, n in zip(shape, ds.shape, strict=True)):
        return f"shape {ds.shape}, expected (" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
    return None


def _verify_demo(g: h5py.Group, name: str, report: Report, deep: bool) -> dict[str, Any]:
    """Check one demo group; return its key signature (or {} if it is too broken to compare)."""
    where = f"/data/{name}"
    a = g.attrs
    for attr, kind in _DEMO_ATTRS.items():
        if attr not in a:
            report(where, f"missing attr {attr}")
        elif not isinstance(a[attr], kind):
            report(where, f"attr {attr} has type {type(a[attr]).__name__}")
    if a.get("episode_index") != demo_number(name):
        report(where, f"attr episode_index {a.get('episode_index')} does not match the group name")
    try:
        seg_ids = {int(i) for i in json.loads(a.get("segmentation_ids", "{}"))}
        json.loads(a.get("ep_meta", "{}"))
    except (TypeError, ValueError):
        report(where, "segmentation_ids / ep_meta attrs are not valid JSON")
        seg_ids = set()
    T = int(a.get("num_samples", -1))
    expected = {"actions": (np.float32, (T, None)), "rewards": (np.float32, (T,)),
                "dones": (np.uint8, (T,)), "states": (np.float64, (T, None))}
    for key, (dtype, shape) in expected.items():
        if key not in g:
            report(where, f"missing dataset {key}")
        elif (p := _shape_problem(g[key], dtype, shape)) is not None:
            report(f"{where}/{key}", p)
    if "obs" not in g or not len(g["obs"]):
        report(where, "missing or empty obs group")
        return {}
    cams = _check_cameras(g, where, T, report)
    for key, ds in g["obs"].items():
        if (p := _shape_problem(ds, *_expected_obs(key, T, cams))) is not None:
            report(f"{where}/obs/{key}", p + ("; low-dim obs must be 2-D (T, D)" if ds.ndim == 1 else ""))
    _check_next_obs(g, where, report)
    if deep:
        _check_contents(g, where, cams, seg_ids, report)
    return demo_signature(g) if "actions" in g else {}


def _expected_obs(key: str, T: int, cams: dict[str, dict[str, Any]]) -> tuple[Any, tuple[int | None, ...]]:
    if key in POINTCLOUD_KEYS:
        dtype, channels = POINTCLOUD_KEYS[key]
        return dtype, (T, None, channels)
    parts = image_key_parts(key)
    if parts is None:
        return np.float32, (T, None)
    cam, suffix = parts
    dtype, channels = IMAGE_SUFFIXES[suffix]
    c = cams.get(cam, {})
    return dtype, (T, c.get("height", -1), c.get("width", -1), channels)


def _check_cameras(g: h5py.Group, where: str, T: int, report: Report) -> dict[str, dict[str, Any]]:
    cams: dict[str, dict[str, Any]] = {}
    for cam, cg in g.get("cameras", {}).items():
        w = f"{where}/cameras/{cam}"
        if missing := [n for n in _CAMERA_ATTRS if n not in cg.attrs]:
            report(w, f"missing attrs {', '.join(missing)}")
            continue
        c = cams[cam] = {n: cg.attrs[n] for n in _CAMERA_ATTRS}
        if (p := intrinsics_problem(c["K"])) is not None:
            report(w, p)
        if np.shape(c["distortion"]) != (5,):
            report(w, "distortion must hold 5 OpenCV coefficients (k1 k2 p1 p2 k3)")
        if not 0 < c["near"] < c["far"] or c["depth_units"] not in DEPTH_UNITS or c["depth_kind"] != "z":
            report(w, "need 0 < near < far, depth_units 'm' or 'normalized', depth_kind 'z'")
        if "T_world_cam" not in cg:
            report(w, "missing dataset T_world_cam")
        elif (p := _shape_problem(cg["T_world_cam"], np.float64, (T, 4, 4))) is not None:
            report(f"{w}/T_world_cam", p)
    for key in g["obs"]:
        if (parts := image_key_parts(key)) and parts[0] not in cams:
            report(f"{where}/obs/{key}", f"no valid cameras/{parts[0]} group for this image")
    return cams


def _check_next_obs(g: h5py.Group, where: str, report: Report) -> None:
    obs, nxt = g["obs"], g.get("next_obs", {})
    lowdim = {k for k in obs if is_lowdim_key(k)}
    if set(nxt) not in (set(obs), lowdim):
        report(f"{where}/next_obs", f"keys {sorted(nxt)} must equal the obs keys")
    for key in set(nxt) & set(obs):
        ds, src = nxt[key], obs[key]
        if ds.shape != src.shape or ds.dtype != src.dtype:
            report(f"{where}/next_obs/{key}", f"shape/dtype {ds.shape} {ds.dtype} differ from obs")
        elif key not in lowdim and (p := _vds_problem(ds, g.name, key)) is not None:
            report(f"{where}/next_obs/{key}", p)


def _vds_problem(ds: h5py.Dataset, group_name: str, key: str) -> str | None:
    """Return why an image next_obs is not the VDS obs[1:] + next_obs_last[0], or None."""
    if not ds.is_virtual:
        return "image next_obs must be a virtual dataset over obs (no copies)"
    T = ds.shape[0]
    want = [(0, T - 2, f"{group_name}/obs/{key}", 1, T - 1),
            (T - 1, T - 1, f"{group_name}/{NEXT_OBS_LAST}/{key}", 0, 0)][0 if T > 1 else 1:]
    got = []
    for m in ds.virtual_sources():
        (v0, *_), (v1, *_) = m.vspace.get_select_bounds()
        (s0, *_), (s1, *_) = m.src_space.get_select_bounds()
        got.append((v0, v1, m.dset_name, s0, s1) if m.file_name == "." else ("external file", m.file_name))
    return None if sorted(got, key=str) == sorted(want, key=str) else f"VDS mapping {got} is not {want}"


def _blocks(ds: h5py.Dataset) -> Iterator[np.ndarray]:
    if ds.ndim == 0:
        yield np.asarray(ds[()])
        return
    for start in range(0, ds.shape[0], _BLOCK):
        yield ds[start:start + _BLOCK]


def _scan(ds: h5py.Dataset, rel: str, cam: dict[str, Any] | None, seg_ids: set[int],
          found: dict[str, Any]) -> Iterator[np.ndarray]:
    """Yield a dataset block by block, accumulating content problems into ``found``."""
    suffix = (image_key_parts(rel.rsplit("/", 1)[-1]) or ("", ""))[1]
    for block in _blocks(ds):
        found["NaN/inf values"] += count_nonfinite(block)
        if suffix == "_depth" and cam is not None:
            found["depth values neither 0 (no return) nor within [near, far]"] += count_bad_depth(
                block, cam["near"], cam["far"], cam["depth_units"])
        if (suffix == "_segmentation" or rel.endswith("/pointcloud_seg")) and block.dtype.kind in "iu":
            found["unknown ids"] |= unknown_segmentation_ids(block, seg_ids)
        if rel.endswith("/T_world_cam") and block.ndim == 3 and not count_nonfinite(block):
            found["pose"] = found["pose"] or rigid_transform_problem(block)
        yield block


def _check_contents(g: h5py.Group, where: str, cams: dict[str, dict[str, Any]], seg_ids: set[int],
                    report: Report) -> None:
    """Stream every real dataset once: finite values, depth range, id map, rigid poses, checksum."""
    rels: list[str] = []
    g.visititems(lambda rel, obj: rels.append(rel) if isinstance(obj, h5py.Dataset) and not obj.is_virtual
                 else None)
    h = hashlib.sha256()
    for rel in sorted(rels):
        ds = g[rel]
        parts = image_key_parts(rel.rsplit("/", 1)[-1])
        found: dict[str, Any] = defaultdict(int, {"unknown ids": set(), "pose": None})
        try:
            hash_dataset(h, rel, ds.dtype, ds.shape, _scan(ds, rel, cams.get(parts[0]) if parts else None,
                                                           seg_ids, found))
        except OSError as exc:
            report(f"{where}/{rel}", f"unreadable ({exc})")
            return
        unknown, pose = found.pop("unknown ids"), found.pop("pose")
        for what, n in found.items():
            if n:
                report(f"{where}/{rel}", f"{n} {what}")
        if unknown:
            report(f"{where}/{rel}", f"ids {sorted(unknown)[:10]} missing from segmentation_ids")
        if pose:
            report(f"{where}/{rel}", f"not a rigid transform: {pose}")
    if h.hexdigest() != g.attrs.get("checksum"):
        report(where, "checksum mismatch: dataset bytes differ from those written")


# --------------------------------------------------------------------------------------------- summary


def _demo_groups(p: Path) -> Iterator[tuple[h5py.Group, set[Path]]]:
    """Yield each demo group of a file or dataset directory with the files it lives in."""
    if p.is_dir():
        if dataset_dir_kind(p) != "robosynth":
            raise DatasetError(f"{p}: not a robosynth dataset directory")
        files = list(list_episode_files(p).values())
        if not files and (p / INDEX_FILENAME).is_file():
            files = [p / INDEX_FILENAME]
        for fp in files:
            yield from _demo_groups(fp)
        return
    with open_dataset_file(p) as f:
        for name in demo_names(f["data"]):
            link = f["data"].get(name, getlink=True)
            used = {p.resolve()}
            if isinstance(link, h5py.ExternalLink):
                used.add((p.parent / link.filename).resolve())
            yield demo_group(f, name), used


def summarize(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return a JSON-ready summary: episodes, steps, keys/shapes/dtypes, backends, seeds, success, bytes."""
    p = Path(path)
    steps, seeds, successes = [], [], 0
    backends: Counter[str] = Counter()
    scenes: Counter[str] = Counter()
    keys: dict[str, dict[str, Any]] = {}
    consistent = True
    files: set[Path] = set()
    for g, used in _demo_groups(p):
        files |= used
        a = g.attrs
        steps.append(int(a["num_samples"]))
        seeds.append(int(a["seed"]))
        successes += bool(a["success"])
        backends[str(a["backend"])] += 1
        scenes[str(a["scene"])] += 1
        sig = {k: {"shape": ["T", *shape], "dtype": np.dtype(dt).name}
               for k, (shape, dt) in demo_signature(g).items()}
        consistent &= not keys or sig == keys
        keys = keys or sig
    if p.is_dir():
        files |= {e.resolve() for e in [p / INDEX_FILENAME, *list_episode_files(p).values()] if e.is_file()}
    n = len(steps)
    return {"path": str(p), "schema": SCHEMA_VERSION, "episodes": n, "total_steps": int(sum(steps)),
            "steps_per_episode": {"min": min(steps, default=0), "max": max(steps, default=0),
                                  "mean": float(np.mean(steps)) if n else 0.0},
            "keys": keys, "keys_consistent": consistent, "backends": dict(backends), "scenes": dict(scenes),
            "seeds": sorted(seeds), "success_rate": successes / n if n else None,
            "bytes_on_disk": sum(f.stat().st_size for f in files if f.is_file())}
