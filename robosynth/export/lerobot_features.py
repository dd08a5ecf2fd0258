"""LeRobot v3.0 features of a robosynth dataset and the per-frame parquet columns of one episode.

Keys (see docs/export.md): ``observation.state`` (robot joints, fingers, end effector), ``observation.
environment_state`` (the task's object vector), ``action``, ``next.reward``, ``next.done``, ``next.success``,
``observation.images.<cam>`` (video, or PNG images in parquet), ``observation.images.<cam>_depth`` (float32
metres as lossless TIFF images, ``info.is_depth_map`` and ``info.depth_unit`` "m", LeRobot >= 0.6's raw-depth
image form), ``observation.segmentation.<cam>`` (int32 (H, W, 1), the id map in ``info.segmentation_ids``),
``observation.cameras.<cam>.K`` and ``.T_world_cam`` (float64, per frame), plus LeRobot's default features.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from robosynth.dataset import EpisodeRecord
from robosynth.export.source import EXPERT_PHASE_KEY, Source

DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
_ARROW = {"float32": "float32", "float64": "float64", "int64": "int64", "int32": "int32", "uint8": "uint8",
          "bool": "bool_"}
_POINT_CHANNELS = {"pointcloud": ["x", "y", "z"], "pointcloud_rgb": ["r", "g", "b"], "pointcloud_seg": ["id"]}


def image_key(cam: str) -> str:
    """Return the LeRobot key of a camera's RGB frames."""
    return f"observation.images.{cam}"


def depth_key(cam: str) -> str:
    """Return the LeRobot key of a camera's depth maps."""
    return f"observation.images.{cam}_depth"


def seg_key(cam: str) -> str:
    """Return the LeRobot key of a camera's instance segmentation."""
    return f"observation.segmentation.{cam}"


def camera_keys(cam: str) -> tuple[str, str]:
    """Return the LeRobot keys of a camera's per-frame intrinsics and pose."""
    return f"observation.cameras.{cam}.K", f"observation.cameras.{cam}.T_world_cam"


def build_features(src: Source, images: str, video_info: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Return the ``features`` of ``meta/info.json`` (``video_info`` is the codec's info for video keys)."""
    f: dict[str, dict[str, Any]] = {
        "observation.state": {"dtype": "float32", "shape": [len(src.state_names())], "names": src.state_names()},
    }
    if "object" in src.lowdim:
        n = src.lowdim["object"]
        f["observation.environment_state"] = {"dtype": "float32", "shape": [n], "names": [f"object_{i}"
                                                                                           for i in range(n)]}
    if EXPERT_PHASE_KEY in src.lowdim:  # not under observation.*: LeRobot policies take those as inputs
        f[EXPERT_PHASE_KEY] = {"dtype": "int64", "shape": [1], "names": None,
                               "info": {"meaning": "index of the scripted expert's phase (robosynth obs/expert_phase, "
                                                   "names in the episode's expert_phases); a label, not an input"}}
    f["action"] = {"dtype": "float32", "shape": [src.action_dim], "names": src.action_names()}
    f["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    f["next.done"] = {"dtype": "bool", "shape": [1], "names": None}
    f["next.success"] = {"dtype": "bool", "shape": [1], "names": None}
    for cam in src.cameras:
        hw = [cam.height, cam.width]
        if "image" in cam.modalities:
            ft: dict[str, Any] = {"dtype": "video" if images == "video" else "image", "shape": [*hw, 3],
                                  "names": ["height", "width", "channels"]}
            if images == "video":
                ft["info"] = {"video.height": cam.height, "video.width": cam.width, "video.fps": src.fps,
                              **(video_info or {}), "video.channels": 3, "has_audio": False, "is_depth_map": False}
            f[image_key(cam.name)] = ft
        if "depth" in cam.modalities:
            f[depth_key(cam.name)] = {"dtype": "image", "shape": [*hw, 1], "names": ["height", "width", "channels"],
                                      "info": {"is_depth_map": True, **_depth_unit(src.depth_units.get(cam.name, "m")),
                                               "encoding": "tiff float32, deflate, floating-point predictor"}}
        if "segmentation" in cam.modalities:
            f[seg_key(cam.name)] = {"dtype": "int32", "shape": [*hw, 1], "names": ["height", "width", "channels"],
                                    "info": {"segmentation_ids": {}, "background_id": 0}}
        k_key, pose_key = camera_keys(cam.name)
        f[k_key] = {"dtype": "float64", "shape": [3, 3], "names": ["rows", "cols"],
                    "info": {"convention": "OpenCV pinhole intrinsics"}}
        f[pose_key] = {"dtype": "float64", "shape": [4, 4], "names": ["rows", "cols"],
                       "info": {"convention": "OpenCV camera (x right, y down, z forward) to world"}}
    for key, (n, c) in src.pointclouds.items():
        dtype = {"pointcloud": "float32", "pointcloud_rgb": "uint8"}.get(key, "int32")
        f[pointcloud_key(key)] = {"dtype": dtype, "shape": [n, c], "names": ["points", "channels"],
                                  "info": {"frame": "world", "channels": _POINT_CHANNELS.get(key),
                                           "source": f"robosynth obs/{key}"}}
    return {**f, **DEFAULT_FEATURES}


def pointcloud_key(key: str) -> str:
    """Return the LeRobot key of a fused point cloud obs key (``pointcloud``, ``pointcloud_rgb``, ...)."""
    return f"observation.{key}"


def _depth_unit(units: str) -> dict[str, Any]:
    """Return LeRobot's ``depth_unit`` entry: "m" for metric depth; for robosynth's normalized depth (no LeRobot
    unit) ``None``, so LeRobot returns it as stored, with ``robosynth_depth_units`` saying what it is."""
    return {"depth_unit": "m"} if units == "m" else {"depth_unit": None, "robosynth_depth_units": units}


def arrow_type(ft: dict[str, Any]) -> Any:
    """Return the parquet column type LeRobot's loader (HF ``datasets``) reads a feature from."""
    import pyarrow as pa

    if ft["dtype"] == "image":
        return pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    scalar = getattr(pa, _ARROW[ft["dtype"]])()
    shape = ft["shape"]
    if shape == [1]:
        return scalar
    if len(shape) == 1:
        return pa.list_(scalar, shape[0])  # datasets' fixed-length Sequence
    for _ in shape:  # datasets' Array2D/Array3D storage: nested variable-length lists
        scalar = pa.list_(scalar)
    return scalar


def _nested(values: np.ndarray, typ: Any) -> Any:
    """Return a (T, *shape) array as T rows of nested lists of arrow type ``typ`` (no Python loop over values)."""
    import pyarrow as pa

    if not pa.types.is_list(typ) and not pa.types.is_fixed_size_list(typ):
        return pa.array(values.reshape(len(values)), type=typ)
    inner = typ
    while pa.types.is_list(inner) or pa.types.is_fixed_size_list(inner):
        inner = inner.value_type
    arr: Any = pa.array(np.ascontiguousarray(values).reshape(-1), type=inner)
    for dim in reversed(values.shape[1:]):
        if pa.types.is_fixed_size_list(typ) and values.ndim == 2:
            arr = pa.FixedSizeListArray.from_arrays(arr, dim)
        else:
            arr = pa.ListArray.from_arrays(pa.array(np.arange(0, len(arr) + 1, dim, dtype=np.int32)), arr)
    return arr


def encode_png(frame: np.ndarray) -> bytes:
    """Return an RGB (H, W, 3) uint8 frame as lossless PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


TIFF_PREDICTOR_TAG = 317
TIFF_FLOAT_PREDICTOR = 3  # byte-wise differencing of floats: deflate then shrinks depth ~8x, still lossless


def encode_depth_tiff(depth: np.ndarray) -> bytes:
    """Return a (H, W, 1) float32 depth map as lossless single-channel float TIFF bytes (PIL mode "F"; deflate
    with the floating-point predictor, which any libtiff-based reader such as Pillow decodes)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(depth[..., 0], dtype=np.float32)).save(
        buf, format="TIFF", compression="tiff_adobe_deflate", tiffinfo={TIFF_PREDICTOR_TAG: TIFF_FLOAT_PREDICTOR})
    return buf.getvalue()


def _image_column(encoded: list[bytes]) -> Any:
    import pyarrow as pa

    return pa.StructArray.from_arrays([pa.array(encoded, type=pa.binary()), pa.array([None] * len(encoded),
                                                                                      type=pa.string())],
                                      names=["bytes", "path"])


def frame_columns(src: Source, ep: EpisodeRecord, features: dict[str, dict[str, Any]], episode_index: int,
                  first_index: int) -> dict[str, Any]:
    """Return the arrow columns of one episode's frames, one per non-video feature, in feature order."""
    T = ep.num_steps
    frame_index = np.arange(T, dtype=np.int64)
    values: dict[str, np.ndarray] = {
        "observation.state": src.state(ep), "action": ep.actions.astype(np.float32),
        "next.reward": ep.rewards.astype(np.float32), "next.done": ep.dones.astype(bool),
        "next.success": (frame_index == T - 1) & bool(ep.success),
        "timestamp": (frame_index / src.fps).astype(np.float32), "frame_index": frame_index,
        "episode_index": np.full(T, episode_index, np.int64), "index": first_index + frame_index,
        "task_index": np.zeros(T, np.int64),
    }
    if "observation.environment_state" in features:
        values["observation.environment_state"] = ep.obs["object"].astype(np.float32)
    if EXPERT_PHASE_KEY in features:
        values[EXPERT_PHASE_KEY] = ep.obs[EXPERT_PHASE_KEY][:, 0].astype(np.int64)
    for key in src.pointclouds:
        values[pointcloud_key(key)] = ep.obs[key]
    columns: dict[str, Any] = {}
    for cam in src.cameras:
        rec = ep.cameras[cam.name]
        k_key, pose_key = camera_keys(cam.name)
        values[k_key] = np.broadcast_to(rec.K, (T, 3, 3)).astype(np.float64)
        values[pose_key] = rec.T_world_cam.astype(np.float64)
        if "segmentation" in cam.modalities:
            values[seg_key(cam.name)] = ep.obs[f"{cam.name}_segmentation"].astype(np.int32)
        if "depth" in cam.modalities:
            columns[depth_key(cam.name)] = _image_column([encode_depth_tiff(d) for d in
                                                          ep.obs[f"{cam.name}_depth"]])
        key = image_key(cam.name)
        if "image" in cam.modalities and features[key]["dtype"] == "image":
            columns[key] = _image_column([encode_png(f) for f in ep.obs[f"{cam.name}_image"]])
    for key, a in values.items():
        columns[key] = _nested(np.asarray(a), arrow_type(features[key]))
    return {k: columns[k] for k in features if k in columns}
