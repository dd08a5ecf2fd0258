"""What an episode is in robosynth's HDF5 layout, schema "1": records, content rules, checksum.

This module defines which values are valid; the writer, reader, directory layout, index and verify build on
it (siblings in :mod:`robosynth.dataset`). See docs/hdf5_format.md for the layout and the decisions behind it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from sim.errors import InputError, RobosynthError

SCHEMA_VERSION = "1"
ENV_TYPE_GYM = 2
LIBVER = ("v110", "v110")  # HDF5 >= 1.10 format (VDS needs it anyway): compact chunk indexes, 3-4x smaller
GZIP_LEVEL = 3  # measured: see docs/hdf5_format.md
COMPRESSIONS = ("gzip", "lzf", None)
IMAGE_SUFFIXES: dict[str, tuple[np.dtype, int]] = {
    "_image": (np.dtype(np.uint8), 3),
    "_depth": (np.dtype(np.float32), 1),
    "_segmentation": (np.dtype(np.int32), 1),
}
POINTCLOUD_KEYS: dict[str, tuple[np.dtype, int]] = {  # fused point clouds (generate --pointcloud N): (T, N, C)
    "pointcloud": (np.dtype(np.float32), 3),
    "pointcloud_rgb": (np.dtype(np.uint8), 3),
    "pointcloud_seg": (np.dtype(np.int32), 1),
}
DEPTH_UNITS = ("m", "normalized")
DEPTH_RTOL = 1e-5  # float32 rounding slack on [near, far]
NEXT_OBS_LAST = "next_obs_last"  # (1, H, W, C) final next frame of each image key, the VDS tail


class DatasetError(InputError):
    """An HDF5 file or dataset directory is unreadable, truncated, foreign or of an unsupported schema."""


class RecordError(RobosynthError, ValueError):
    """An episode record violates schema "1" and cannot be written."""


@functools.cache  # importlib.metadata reads the installed distribution's files: 0.8 ms a call
def _package_version() -> str:
    try:
        return metadata.version("robosynth")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, eq=False)
class CameraRecord:
    """One camera of an episode: intrinsics, OpenCV-convention extrinsics per step, depth encoding."""

    name: str
    K: np.ndarray
    width: int
    height: int
    distortion: np.ndarray
    near: float
    far: float
    depth_units: str
    depth_kind: str
    T_world_cam: np.ndarray


@dataclass(frozen=True, eq=False)
class EpisodeRecord:
    """One recorded episode, exactly what one ``data/demo_<index>`` group holds."""

    index: int
    seed: int
    backend: str
    engine_version: str
    scene_name: str
    success: bool
    failure_reason: str
    model_file: str
    ep_meta: dict[str, Any]
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    states: np.ndarray
    obs: dict[str, np.ndarray]
    next_obs_lowdim: dict[str, np.ndarray]
    cameras: dict[str, CameraRecord] = field(default_factory=dict)
    segmentation_ids: dict[int, dict[str, Any]] = field(default_factory=dict)
    quality: str = ""
    final_images: dict[str, np.ndarray] = field(default_factory=dict)  # image key -> (1, H, W, C) after last step

    @property
    def num_steps(self) -> int:
        """Return T, the number of recorded steps."""
        return int(self.actions.shape[0])


@dataclass(frozen=True)
class DatasetInfo:
    """Dataset-wide metadata: the Gymnasium id and kwargs that recreate the env, and the writer version."""

    env_name: str
    env_version: str
    env_kwargs: dict[str, Any]
    robosynth_version: str = field(default_factory=_package_version)

    def env_args_json(self) -> str:
        """Return the robomimic ``env_args`` JSON (type 2 = gym)."""
        args = {"env_name": self.env_name, "type": ENV_TYPE_GYM, "env_version": self.env_version,
                "env_kwargs": self.env_kwargs}
        return json.dumps(args, sort_keys=True, allow_nan=False)


# ----------------------------------------------------------------------------------------- content rules


def image_key_parts(key: str) -> tuple[str, str] | None:
    """Return ``(camera, suffix)`` for an image obs key like ``agentview_depth``, else None (low-dim)."""
    for suffix in IMAGE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)], suffix
    return None


def is_lowdim_key(key: str) -> bool:
    """Return True for a low-dim obs key ((T, D) float32, next_obs stored as a copy); False for images and point
    clouds (next_obs are virtual datasets over obs and ``next_obs_last``)."""
    return image_key_parts(key) is None and key not in POINTCLOUD_KEYS


def count_nonfinite(a: np.ndarray) -> int:
    """Return how many NaN/inf values a float array holds (0 for other dtypes)."""
    return int(a.size - np.count_nonzero(np.isfinite(a))) if a.dtype.kind in "fc" else 0


def count_bad_depth(depth: np.ndarray, near: float, far: float, units: str) -> int:
    """Return how many depth values are invalid: metres must be 0 (no return) or within [near, far]."""
    if units == "normalized":
        ok = (depth >= 0.0) & (depth <= 1.0)
    else:
        ok = (depth == 0.0) | ((depth >= near * (1 - DEPTH_RTOL)) & (depth <= far * (1 + DEPTH_RTOL)))
    return int(depth.size - np.count_nonzero(ok))


def unknown_segmentation_ids(seg: np.ndarray, known: Iterable[int]) -> set[int]:
    """Return the ids in a segmentation array that are neither 0 (background) nor in the id map."""
    flat = seg.ravel()
    if flat.size and 0 <= flat.min() and flat.max() < 1 << 20:  # O(N) for the usual small instance ids
        present = np.flatnonzero(np.bincount(flat))
    else:
        present = np.unique(flat)
    return {int(i) for i in present} - {0, *known}


def rigid_transform_problem(T: np.ndarray, atol: float = 1e-5) -> str | None:
    """Return why a (..., 4, 4) stack is not made of rigid transforms, or None."""
    if T.ndim < 2 or T.shape[-2:] != (4, 4):
        return f"shape {T.shape} is not (..., 4, 4)"
    if count_nonfinite(T):
        return "non-finite values"
    R = T[..., :3, :3]
    if not np.allclose(T[..., 3, :], [0, 0, 0, 1], atol=atol):
        return "last row is not [0, 0, 0, 1]"
    if not np.allclose(np.swapaxes(R, -1, -2) @ R, np.eye(3), atol=atol) or not np.allclose(
            np.linalg.det(R), 1.0, atol=atol):
        return "rotation part is not orthonormal with det +1"
    return None


def intrinsics_problem(K: np.ndarray) -> str | None:
    """Return why K is not a valid 3x3 pinhole intrinsics matrix, or None."""
    K = np.asarray(K)
    if K.shape != (3, 3) or count_nonfinite(K.astype(np.float64)):
        return f"K must be a finite 3x3 matrix, got shape {K.shape}"
    if not (K[0, 0] > 0 and K[1, 1] > 0) or not np.allclose(K[2], [0, 0, 1]) or K[1, 0] != 0:
        return "K must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0"
    return None


# ------------------------------------------------------------------------------------ record validation


class _Checker:
    """Collects problems while casting record arrays to their schema dtypes."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def array(self, name: str, a: Any, dtype: Any, shape: tuple[int | None, ...]) -> np.ndarray:
        a = np.asarray(a)
        dtype = np.dtype(dtype)
        if a.dtype != dtype and not np.can_cast(a.dtype, dtype, "same_kind"):
            self.problems.append(f"{name}: dtype {a.dtype} cannot be stored as {dtype}")
        elif a.ndim != len(shape) or any(s not in (None, n) for s, n in zip(shape, a.shape, strict=True)):
            want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
            lowdim_1d = name.startswith(("obs/", "next_obs/")) and a.ndim == 1
            hint = "; low-dim obs must be 2-D, reshape (T,) to (T, 1)" if lowdim_1d else ""
            self.problems.append(f"{name}: shape {a.shape} does not match {want}{hint}")
        return np.ascontiguousarray(a, dtype=dtype)

    def image(self, name: str, a: Any, dtype: np.dtype, shape: tuple[int | None, ...]) -> np.ndarray:
        a = np.asarray(a)
        if a.dtype != dtype:
            self.problems.append(f"{name}: image dtype must be {dtype}, got {a.dtype}")
            return a
        return self.array(name, a, dtype, shape)


def canonical_record(ep: EpisodeRecord, image_next_obs: bool = True) -> EpisodeRecord:
    """Return the record with arrays cast to schema dtypes; raise RecordError listing every violation.

    With ``image_next_obs`` every image obs key needs its ``final_images`` entry; without, they are dropped.
    """
    c = _Checker()
    T = int(np.shape(ep.actions)[0]) if np.ndim(ep.actions) else 0
    if T < 1:
        c.problems.append("actions: an episode needs at least one step, shape (T, A) with T >= 1")
    if not isinstance(ep.index, int | np.integer) or ep.index < 0:
        c.problems.append(f"index: must be a non-negative int, got {ep.index!r}")
    if not isinstance(ep.seed, int | np.integer) or not 0 <= ep.seed < 2**63:
        c.problems.append(f"seed: must be an int in [0, 2**63), got {ep.seed!r}")
    for name in ("backend", "engine_version", "scene_name", "failure_reason", "model_file", "quality"):
        if not isinstance(getattr(ep, name), str):
            c.problems.append(f"{name}: must be a str")
    try:
        if not isinstance(ep.ep_meta, dict):
            raise TypeError("must be a dict (a JSON object)")
        json.dumps(ep.ep_meta, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        c.problems.append(f"ep_meta: not JSON-serialisable ({exc})")
    fixed = {
        "actions": c.array("actions", ep.actions, np.float32, (T, None)),
        "rewards": c.array("rewards", ep.rewards, np.float32, (T,)),
        "dones": c.array("dones", ep.dones, np.uint8, (T,)),
        "states": c.array("states", ep.states, np.float64, (T, None)),
    }
    if not ep.obs:
        c.problems.append("obs: at least one observation key is required")
    obs, final, cams_used = {}, {}, set()
    for key, a in ep.obs.items():
        parts = image_key_parts(key)
        if parts is None and key not in POINTCLOUD_KEYS:
            obs[key] = c.array(f"obs/{key}", a, np.float32, (T, None))
            continue
        if parts is None:  # a point cloud: (T, N, C)
            dtype, channels = POINTCLOUD_KEYS[key]
            hw: tuple[int | None, ...] = (np.shape(a)[1] if np.ndim(a) == 3 else None,)
        else:
            cam, suffix = parts
            cams_used.add(cam)
            dtype, channels = IMAGE_SUFFIXES[suffix]
            rec = ep.cameras.get(cam)
            hw = (rec.height, rec.width) if rec is not None else (None, None)
        obs[key] = c.image(f"obs/{key}", a, dtype, (T, *hw, channels))
        if image_next_obs and key not in ep.final_images:
            c.problems.append(f"final_images/{key}: missing; image next_obs need the observation after the last "
                              "action (or write with image_next_obs=False)")
        elif image_next_obs:
            final[key] = c.image(f"final_images/{key}", ep.final_images[key], dtype, (1, *hw, channels))
    if extra := sorted(set(ep.final_images) - set(obs)):
        c.problems.append(f"final_images: keys {extra} are not image obs keys")
    lowdim = {k for k in obs if is_lowdim_key(k)}
    if set(ep.next_obs_lowdim) != lowdim:
        c.problems.append(f"next_obs_lowdim: keys {sorted(ep.next_obs_lowdim)} must equal low-dim obs keys "
                          f"{sorted(lowdim)}")
    next_obs = {k: c.array(f"next_obs/{k}", a, np.float32, obs[k].shape if k in obs else (T, None))
                for k, a in ep.next_obs_lowdim.items()}
    cameras = {}
    for cam in sorted(cams_used - set(ep.cameras)):
        c.problems.append(f"cameras: image obs of camera {cam!r} but no CameraRecord for it")
    for cam, rec in ep.cameras.items():
        cameras[cam] = _canonical_camera(c, cam, rec, T)
    for i, entry in ep.segmentation_ids.items():
        if not isinstance(i, int | np.integer) or not isinstance(entry, Mapping) or \
                not {"name", "class", "body"} <= set(entry):
            c.problems.append(f"segmentation_ids[{i!r}]: must map an int id to {{name, class, body}}")
    try:
        json.dumps({str(i): v for i, v in ep.segmentation_ids.items()}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        c.problems.append(f"segmentation_ids: not JSON-serialisable ({exc})")
    if not c.problems:
        arrays = {**fixed, **{f"obs/{k}": a for k, a in obs.items()},
                  **{f"next_obs/{k}": a for k, a in next_obs.items()},
                  **{f"final_images/{k}": a for k, a in final.items()}}
        _content_problems(c.problems, arrays, cameras, ep.segmentation_ids)
    if c.problems:
        raise RecordError(f"episode {ep.index}: " + "; ".join(c.problems))
    return EpisodeRecord(
        index=int(ep.index), seed=int(ep.seed), backend=ep.backend, engine_version=ep.engine_version,
        scene_name=ep.scene_name, success=bool(ep.success), failure_reason=ep.failure_reason,
        model_file=ep.model_file, ep_meta=ep.ep_meta, obs=obs, next_obs_lowdim=next_obs, cameras=cameras,
        segmentation_ids={int(i): dict(v) for i, v in ep.segmentation_ids.items()}, quality=ep.quality,
        final_images=final, **fixed)


def _canonical_camera(c: _Checker, cam: str, rec: CameraRecord, T: int) -> CameraRecord:
    where = f"cameras/{cam}"
    if rec.name != cam:
        c.problems.append(f"{where}: CameraRecord.name {rec.name!r} differs from its key")
    if (p := intrinsics_problem(rec.K)) is not None:
        c.problems.append(f"{where}: {p}")
    if not (int(rec.width) > 0 and int(rec.height) > 0):
        c.problems.append(f"{where}: width and height must be > 0")
    if not (np.isfinite(rec.near) and np.isfinite(rec.far) and 0 < rec.near < rec.far):
        c.problems.append(f"{where}: need 0 < near < far, got near={rec.near}, far={rec.far}")
    if rec.depth_units not in DEPTH_UNITS or rec.depth_kind != "z":
        c.problems.append(f"{where}: depth_units must be one of {DEPTH_UNITS} and depth_kind 'z'")
    pose = c.array(f"{where}/T_world_cam", rec.T_world_cam, np.float64, (T, 4, 4))
    if pose.shape == (T, 4, 4) and (p := rigid_transform_problem(pose)) is not None:
        c.problems.append(f"{where}/T_world_cam: {p}")
    return CameraRecord(
        name=cam, K=c.array(f"{where}/K", rec.K, np.float64, (3, 3)), width=int(rec.width),
        height=int(rec.height), distortion=c.array(f"{where}/distortion", rec.distortion, np.float64, (5,)),
        near=float(rec.near), far=float(rec.far), depth_units=rec.depth_units, depth_kind=rec.depth_kind,
        T_world_cam=pose)


def _content_problems(problems: list[str], arrays: dict[str, np.ndarray], cameras: dict[str, CameraRecord],
                      seg_ids: Mapping[int, Any]) -> None:
    for name, a in arrays.items():
        if n := count_nonfinite(a):
            problems.append(f"{name}: {n} NaN/inf values")
        cam, suffix = image_key_parts(name.rsplit("/", 1)[-1]) or ("", "")
        if suffix == "_depth" and (n := count_bad_depth(a, cameras[cam].near, cameras[cam].far,
                                                          cameras[cam].depth_units)):
            problems.append(f"{name}: {n} depth values neither 0 nor within [near, far]")
        if (suffix == "_segmentation" or name.endswith("/pointcloud_seg")) and \
                (bad := unknown_segmentation_ids(a, seg_ids)):
            problems.append(f"{name}: ids {sorted(bad)[:10]} missing from segmentation_ids")


# -------------------------------------------------------------------------------------------- checksum


def hash_dataset(h: Any, relpath: str, dtype: np.dtype, shape: tuple[int, ...],
                 blocks: Iterable[np.ndarray]) -> None:
    """Feed one dataset (name, dtype, shape, then its C-order bytes block by block) into a hashlib object."""
    h.update(f"{relpath}\0{np.dtype(dtype).str}\0{tuple(shape)}\0".encode())
    for block in blocks:
        h.update(np.ascontiguousarray(block, dtype=dtype).data)


def record_datasets(ep: EpisodeRecord) -> dict[str, np.ndarray]:
    """Return the real (non-virtual) datasets of a demo group by relative path: the checksummed set."""
    out = {"actions": ep.actions, "rewards": ep.rewards, "dones": ep.dones, "states": ep.states}
    for key, a in ep.obs.items():
        out[f"obs/{key}"] = a
    out.update({f"{NEXT_OBS_LAST}/{k}": a for k, a in ep.final_images.items()})
    out.update({f"next_obs/{k}": a for k, a in ep.next_obs_lowdim.items()})
    out.update({f"cameras/{cam}/T_world_cam": rec.T_world_cam for cam, rec in ep.cameras.items()})
    return dict(sorted(out.items()))


def episode_checksum(ep: EpisodeRecord) -> str:
    """Return the SHA-256 hex digest stored in a demo's ``checksum`` attr for this (canonical) record."""
    h = hashlib.sha256()
    for rel, a in record_datasets(ep).items():
        hash_dataset(h, rel, a.dtype, a.shape, [a])
    return h.hexdigest()


def _signature(actions: Any, obs: Iterable[tuple[str, Any]], next_obs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Return {key: (per-step shape, dtype str)} of arrays or h5py datasets (anything with .shape and .dtype)."""
    sig: dict[str, Any] = {"actions": (actions.shape[1:], actions.dtype.str)}
    for sub, items in (("obs", obs), ("next_obs", next_obs)):
        for k, d in items:
            sig[f"{sub}/{k}"] = (d.shape[1:], d.dtype.str)
    return sig


def demo_signature(g: Any) -> dict[str, Any]:
    """Return per-step shapes and dtypes of a demo's actions, obs and next_obs (equal across demos; ``g`` is the
    demo's h5py group)."""
    return _signature(g["actions"], g.get("obs", {}).items(), g.get("next_obs", {}).items())


def record_signature(ep: EpisodeRecord) -> dict[str, Any]:
    """Return :func:`demo_signature` of the demo written from canonical record ``ep``, without reading it back:
    next_obs holds the low-dim keys and, where ``ep`` has their final frames, the image keys (virtual datasets
    shaped like obs). Keys come in the order an h5py group lists them (by name)."""
    next_obs = {**{k: ep.obs[k] for k in ep.final_images}, **ep.next_obs_lowdim}
    return _signature(ep.actions, sorted(ep.obs.items()), sorted(next_obs.items()))
