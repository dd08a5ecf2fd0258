"""Scene cameras: from CameraSpec to OpenCV intrinsics/extrinsics, and into each engine's model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.transforms import pose_to_matrix, quat_from_matrix

if TYPE_CHECKING:
    from scenes.spec import CameraSpec, SceneSpec

# OpenCV camera frame (x right, y down, z forward) -> MuJoCo camera frame (x right, y up, looks along -z).
CV_TO_MJ = np.diag([1.0, -1.0, -1.0])


def _look_at_cv(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], axis=1)
    T[:3, 3] = eye
    return T


def camera_T_parent(cam: CameraSpec) -> np.ndarray:
    """Return the OpenCV camera pose in its parent frame (world, or the ``attach_to`` link)."""
    if cam.look_at is not None:
        return _look_at_cv(np.asarray(cam.pos, float), np.asarray(cam.look_at, float), np.asarray(cam.up, float))
    return pose_to_matrix(np.asarray(cam.pos, float), np.asarray(cam.quat, float))


def add_mujoco_cameras(ms, spec: SceneSpec) -> None:
    """Add every scene camera to an MjSpec (world or attached to a robot link)."""
    for cam in spec.cameras:
        parent = ms.worldbody if cam.attach_to is None else ms.body(cam.attach_to)
        if parent is None:
            from sim.errors import SceneError

            raise SceneError(f"cameras.{cam.name}.attach_to: unknown body '{cam.attach_to}'")
        T = camera_T_parent(cam)
        c = parent.add_camera(name=cam.name)
        c.pos = list(T[:3, 3])
        c.quat = list(quat_from_matrix(T[:3, :3] @ CV_TO_MJ))
        c.fovy = float(cam.fovy if cam.fovy is not None else 45.0)
