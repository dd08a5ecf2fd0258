"""Scene cameras: from CameraSpec to OpenCV intrinsics/extrinsics, and into each engine's model.

All convention math lives in ``renderers.camera``; this module only reads the scene spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from renderers.camera import Intrinsics, look_at, pose_matrix
from renderers.engine_cameras import configure_mujoco_camera

if TYPE_CHECKING:
    from scenes.spec import CameraSpec, SceneSpec


def camera_intrinsics(cam: CameraSpec) -> Intrinsics:
    """Return the Intrinsics of a scene camera (full K if given, else from fovy)."""
    if cam.K is not None:
        return Intrinsics.from_K(np.asarray(cam.K, float), cam.width, cam.height, cam.distortion, cam.near, cam.far)
    intr = Intrinsics.from_fovy(float(cam.fovy or 45.0), cam.width, cam.height, cam.near, cam.far)
    return intr.replace(distortion=np.asarray(cam.distortion, float))


def camera_T_parent(cam: CameraSpec) -> np.ndarray:
    """Return the OpenCV camera pose in its parent frame (world, or the ``attach_to`` link)."""
    if cam.look_at is not None:
        return look_at(cam.pos, cam.look_at, cam.up)
    return pose_matrix(cam.pos, cam.quat)


def add_mujoco_cameras(ms, spec: SceneSpec) -> None:
    """Add every scene camera to an MjSpec (world or attached to a robot link) with full intrinsics."""
    for cam in spec.cameras:
        parent = ms.worldbody if cam.attach_to is None else ms.body(cam.attach_to)
        if parent is None:
            from sim.errors import SceneError

            raise SceneError(f"cameras.{cam.name}.attach_to: unknown body '{cam.attach_to}'")
        c = parent.add_camera(name=cam.name)
        configure_mujoco_camera(c, camera_intrinsics(cam), camera_T_parent(cam))
