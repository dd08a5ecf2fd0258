"""An episode's per-step accumulation (``EpisodeBuffer``) and the arrays schema "1" stores from it.

Shared by ``generate`` (``robosynth.generate.recording``) and the Gymnasium recorder (``robosynth.gym.record``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from renderers.sensors import Frame
from robosynth.dataset import CameraRecord

LOWDIM_KEYS = ("robot0_joint_pos", "robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object")
EXPERT_PHASE_KEY = "expert_phase"  # obs/expert_phase (T, 1) float32: index into ep_meta["expert_phases"]


def normalize_depth(depth: np.ndarray, near: float, far: float) -> np.ndarray:
    """Return robosuite-style normalized depth d = (1 - near/z) / (1 - near/far) in [0, 1]; 0 stays 0."""
    z = np.asarray(depth, np.float64)
    out = np.where(z > 0, (1.0 - near / np.maximum(z, 1e-12)) / (1.0 - near / far), 0.0)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def metric_from_normalized(d: np.ndarray, near: float, far: float) -> np.ndarray:
    """Return metres from robosuite-style normalized depth (inverse of ``normalize_depth``)."""
    d = np.asarray(d, np.float64)
    return (near / (1.0 - d * (1.0 - near / far))).astype(np.float32)


class EpisodeBuffer:
    """Per-step accumulation of one episode, turned into schema arrays by ``arrays``."""

    def __init__(self, cameras: tuple[str, ...]):
        self.lowdim: dict[str, list[np.ndarray]] = {k: [] for k in LOWDIM_KEYS}
        self.images: dict[str, dict[str, list[np.ndarray]]] = {c: {} for c in cameras}
        self.poses: dict[str, list[np.ndarray]] = {c: [] for c in cameras}
        self.intrinsics: dict[str, Any] = {}
        self.states: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.clouds: dict[str, list[np.ndarray]] = {}  # pointcloud, pointcloud_rgb, pointcloud_seg per snapshot
        self.phases: list[int] = []  # expert phase index per observation (experts that declare PHASES)

    def arrays(self, depth_format: str = "metric") -> tuple[dict, dict, dict, dict, np.ndarray]:
        """Return (obs, next_obs low-dim, cameras, final image frames, dones) for T = recorded actions.

        Image lists are freed while they are stacked, so an episode's peak memory stays ~1x its images.
        """
        T = len(self.actions)
        obs = {k: np.stack(v[:T]).astype(np.float32) for k, v in self.lowdim.items()}
        next_obs = {k: np.stack(v[1 : T + 1]).astype(np.float32) for k, v in self.lowdim.items()}
        cameras: dict[str, CameraRecord] = {}
        final: dict[str, np.ndarray] = {}
        units = "m" if depth_format == "metric" else "normalized"
        for cam, images in self.images.items():
            intr = self.intrinsics[cam]
            cameras[cam] = CameraRecord(
                name=cam, K=np.asarray(intr.K, float), width=intr.width, height=intr.height,
                distortion=np.asarray(intr.distortion, float), near=float(intr.near), far=float(intr.far),
                depth_units=units, depth_kind="z", T_world_cam=np.stack(self.poses[cam][:T]),
            )
            for key, frames in images.items():
                arr = np.stack(frames)
                frames.clear()
                if key == "depth" and units == "normalized":
                    arr = normalize_depth(arr, intr.near, intr.far)
                if key in ("depth", "segmentation"):
                    arr = arr[..., None]
                name = f"{cam}_{'image' if key == 'rgb' else key}"
                obs[name] = arr[:T]
                final[name] = arr[T : T + 1]
        if self.phases:  # the expert's phase when it received each observation (docs/hdf5_format.md)
            ph = np.asarray(self.phases, np.float32)[:, None]
            obs[EXPERT_PHASE_KEY], next_obs[EXPERT_PHASE_KEY] = ph[:T], ph[1 : T + 1]
        for key, values in self.clouds.items():  # point clouds: like images, the last snapshot is next_obs_last
            arr = np.stack(values)
            obs[key], final[key] = arr[:T], arr[T : T + 1]
        dones = np.zeros(T, dtype=np.uint8)
        dones[-1] = 1
        return obs, next_obs, cameras, final, dones

    def add_obs(self, obs: dict[str, np.ndarray], state: np.ndarray) -> None:
        """Add one observation's low-dim values and the engine state it was taken in."""
        for k in LOWDIM_KEYS:
            self.lowdim[k].append(np.asarray(obs[k], np.float32))
        self.states.append(state)

    def add_frames(self, frames: dict[str, Frame]) -> None:
        """Add one observation's camera frames (the recorded cameras; empty without cameras)."""
        for cam, f in frames.items():
            self.intrinsics[cam] = f.intrinsics
            self.poses[cam].append(np.asarray(f.T_world_cam, np.float64))
            for key, arr in (("rgb", f.rgb), ("depth", f.depth), ("segmentation", f.segmentation)):
                if arr is not None:
                    self.images[cam].setdefault(key, []).append(arr)

    def add_phase(self, expert: Any, phases: tuple[str, ...]) -> None:
        """Record the expert's current phase (its index in ``phases``) for the observation just added."""
        if phases:
            self.phases.append(phases.index(expert.phase))

    def add_step(self, action: np.ndarray, reward: float) -> None:
        self.actions.append(action)
        self.rewards.append(float(reward))


def versions(backend: str) -> dict[str, str]:
    """Return the versions that determine an episode's bytes (engine, numpy, robosynth)."""
    return dict(_versions(backend))


@functools.cache
def _versions(backend: str) -> tuple[tuple[str, str], ...]:
    from importlib import metadata

    out = {"numpy": np.__version__}
    for pkg in ("robosynth", "mujoco" if backend == "mujoco" else "pybullet", "h5py"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return tuple(out.items())
