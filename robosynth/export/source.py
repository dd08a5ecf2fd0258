"""The robosynth dataset an export reads: one scan of its metadata (scene, rate, keys, cameras), then its episodes.

The source is opened read-only through :mod:`robosynth.dataset` and never modified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset import (
    DatasetError,
    EpisodeRecord,
    demo_group,
    demo_names,
    image_key_parts,
    iter_episodes,
    open_dataset_file,
    read_dataset_info,
    summarize,
)
from robosynth.dataset.layout import INDEX_FILENAME, list_episode_files
from robosynth.dataset.records import POINTCLOUD_KEYS
from robosynth.export.common import ExportError

# Robot state keys in the order they form ``observation.state`` (each (T, D) float32), with per-dimension names.
STATE_KEYS: dict[str, tuple[str, ...]] = {
    "robot0_joint_pos": tuple(f"joint_{i}" for i in range(1, 8)),
    "robot0_gripper_qpos": ("finger_left", "finger_right"),
    "robot0_eef_pos": ("eef_x", "eef_y", "eef_z"),
    "robot0_eef_quat": ("eef_qw", "eef_qx", "eef_qy", "eef_qz"),
}
OBJECT_KEY = "object"
EXPERT_PHASE_KEY = "expert_phase"  # a label of the expert's hidden state, not an observation (LeRobot: own key)
ACTION_NAMES = {
    "ee_delta": ("delta_x", "delta_y", "delta_z", "delta_yaw", "gripper"),
    "joint_pos": (*(f"joint_{i}" for i in range(1, 8)), "gripper"),
}
MODALITIES = ("image", "depth", "segmentation")


@dataclass(frozen=True)
class CameraInfo:
    """One recorded camera: its name, image size and which modalities the dataset holds for it."""

    name: str
    height: int
    width: int
    modalities: tuple[str, ...]  # subset of MODALITIES, in that order


@dataclass(frozen=True)
class Source:
    """What an export needs to know about a robosynth dataset before reading its episodes."""

    path: Path
    name: str
    scene: str
    task: str
    env_name: str
    fps: int
    controller_mode: str
    num_episodes: int
    total_frames: int
    lowdim: dict[str, int]  # low-dim obs key -> width
    action_dim: int
    cameras: tuple[CameraInfo, ...]
    segmentation_ids: dict[int, dict[str, Any]]
    bytes_on_disk: int
    depth_units: dict[str, str]  # camera -> "m" (metres) or "normalized" (generate --depth-format normalized)
    pointclouds: dict[str, tuple[int, int]]  # obs key (generate --pointcloud) -> (points N, channels C)

    @property
    def state_keys(self) -> tuple[str, ...]:
        """Return the low-dim keys that make ``observation.state``: robot keys first, then any other key except the
        object vector and the expert's phase label."""
        known = [k for k in STATE_KEYS if k in self.lowdim]
        rest = sorted(k for k in self.lowdim if k not in STATE_KEYS and k not in (OBJECT_KEY, EXPERT_PHASE_KEY))
        return (*known, *rest)

    def state_names(self) -> list[str]:
        """Return one name per dimension of ``observation.state``."""
        names: list[str] = []
        for key in self.state_keys:
            dims = STATE_KEYS.get(key)
            names += list(dims) if dims and len(dims) == self.lowdim[key] else \
                [f"{key}_{i}" for i in range(self.lowdim[key])]
        return names

    def action_names(self) -> list[str]:
        """Return one name per action dimension (the controller's meaning where known)."""
        names = ACTION_NAMES.get(self.controller_mode)
        if names and len(names) == self.action_dim:
            return list(names)
        return [f"action_{i}" for i in range(self.action_dim)]

    def state(self, ep: EpisodeRecord) -> np.ndarray:
        """Return the (T, S) float32 state of an episode (robot keys concatenated)."""
        return np.concatenate([ep.obs[k] for k in self.state_keys], axis=1).astype(np.float32)

    def next_state(self, ep: EpisodeRecord) -> np.ndarray:
        """Return the (T, S) float32 state after each action."""
        return np.concatenate([ep.next_obs_lowdim[k] for k in self.state_keys], axis=1).astype(np.float32)

    def episodes(self) -> Iterator[EpisodeRecord]:
        """Yield every episode in index order, checking each has the keys and shapes of the first one."""
        for ep in iter_episodes(self.path):
            self._check_consistent(ep)
            yield ep

    def _check_consistent(self, ep: EpisodeRecord) -> None:
        lowdim = {k: int(v.shape[1]) for k, v in ep.obs.items() if image_key_parts(k) is None and v.ndim == 2}
        if lowdim != self.lowdim or int(ep.actions.shape[1]) != self.action_dim:
            raise ExportError(f"{self.path}: episode {ep.index} has low-dim keys or action width different from "
                              "the first episode; export needs one layout for the whole dataset")
        for cam in self.cameras:
            for mod in cam.modalities:
                a = ep.obs.get(f"{cam.name}_{mod}")
                if a is None or a.shape[1:3] != (cam.height, cam.width):
                    raise ExportError(f"{self.path}: episode {ep.index} lacks {cam.name}_{mod} at "
                                      f"{cam.width}x{cam.height} like the first episode")


def open_source(path: Path) -> Source:
    """Scan a robosynth dataset directory (or one of its HDF5 files); raise ExportError if it is not one."""
    if not path.exists():
        raise ExportError(f"{path}: no such dataset")
    try:
        summary = summarize(path)
        if not summary["episodes"]:
            raise ExportError(f"{path}: holds no episodes")
        if not summary["keys_consistent"]:
            raise ExportError(f"{path}: episodes have different keys or shapes; export needs one layout")
        first_file = _first_file(path)
        info = read_dataset_info(first_file)
        with open_dataset_file(first_file) as f:
            g = demo_group(f, demo_names(f["data"])[0])
            meta = json.loads(g.attrs["ep_meta"])
            seg_ids = {int(i): v for i, v in json.loads(g.attrs["segmentation_ids"]).items()}
            depth_units = {c: str(cg.attrs["depth_units"]) for c, cg in g.get("cameras", {}).items()}
    except DatasetError as exc:
        raise ExportError(f"not a robosynth dataset: {exc}") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ExportError(f"{path}: not a robosynth dataset (bad metadata: {exc})") from None
    scene = meta.get("scene") or {}
    keys = summary["keys"]
    return Source(
        path=path, name=path.stem if path.is_file() else path.resolve().name, scene=str(scene.get("name", "scene")),
        task=str(scene.get("description") or scene.get("name") or "robosynth task"), env_name=info.env_name,
        fps=_fps(path, scene), controller_mode=str(((scene.get("robot") or {}).get("controller") or {}).get("mode")),
        num_episodes=int(summary["episodes"]), total_frames=int(summary["total_steps"]),
        lowdim={k[4:]: int(v["shape"][1]) for k, v in keys.items()
                if k.startswith("obs/") and len(v["shape"]) == 2},
        action_dim=int(keys["actions"]["shape"][1]), cameras=_cameras(keys), segmentation_ids=seg_ids,
        bytes_on_disk=int(summary["bytes_on_disk"]), depth_units=depth_units,
        pointclouds={k[4:]: (int(v["shape"][1]), int(v["shape"][2])) for k, v in keys.items()
                     if k.startswith("obs/") and k[4:] in POINTCLOUD_KEYS})


def _first_file(path: Path) -> Path:
    if path.is_file():
        return path
    files = list_episode_files(path)
    return next(iter(files.values())) if files else path / INDEX_FILENAME


def _fps(path: Path, scene: dict[str, Any]) -> int:
    """Return the control rate in Hz (LeRobot's integer fps); raise ExportError if it is not a whole number."""
    physics = scene.get("physics") or {}
    try:
        dt = float(physics["timestep"]) * float(physics["substeps"])
    except (KeyError, TypeError, ValueError):
        raise ExportError(f"{path}: the episodes' scene has no physics timestep/substeps (control rate)") from None
    rate = 1.0 / dt
    if abs(rate - round(rate)) > 1e-6 * rate or round(rate) < 1:
        raise ExportError(f"{path}: control rate {rate:g} Hz is not a whole number of frames per second")
    return int(round(rate))


def _cameras(keys: dict[str, Any]) -> tuple[CameraInfo, ...]:
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for k, v in keys.items():
        parts = image_key_parts(k[4:]) if k.startswith("obs/") else None
        if parts:
            cam, suffix = parts
            found.setdefault(cam, {})[suffix[1:]] = (int(v["shape"][1]), int(v["shape"][2]))
    cams = []
    for cam in sorted(found):
        mods = tuple(m for m in MODALITIES if m in found[cam])
        h, w = found[cam][mods[0]]
        cams.append(CameraInfo(cam, h, w, mods))
    return tuple(cams)
