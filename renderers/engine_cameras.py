"""Camera conventions of the engines: MuJoCo camera pose, fovy and intrinsics, clip planes; PyBullet / OpenGL
view and projection matrices and depth buffers. Engine-independent camera math is in :mod:`renderers.camera`."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.camera import (
    CV_TO_GL,
    PYBULLET_TINY_PIXEL_OFFSET,
    Intrinsics,
    invert_pose,
    quat_wxyz_from_matrix,
    validate_clip,
)
from sim.errors import InputError

# ----------------------------------------------------------------------------------------- MuJoCo


def mujoco_camera_pose(T_parent_cam: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (pos, quat_wxyz) of a MuJoCo camera (looks along -z, y up) for an OpenCV T_parent_cam."""
    T = np.asarray(T_parent_cam, dtype=np.float64)
    return T[:3, 3].copy(), quat_wxyz_from_matrix(T[:3, :3] @ CV_TO_GL)


def T_world_cam_from_mujoco(cam_xpos: Any, cam_xmat: Any) -> np.ndarray:
    """Return the OpenCV T_world_cam of a MuJoCo camera from data.cam_xpos[i] and data.cam_xmat[i]."""
    T = np.eye(4)
    T[:3, :3] = np.asarray(cam_xmat, dtype=np.float64).reshape(3, 3) @ CV_TO_GL
    T[:3, 3] = np.asarray(cam_xpos, dtype=np.float64).reshape(3)
    return T


def mujoco_camera_intrinsics(intr: Intrinsics) -> dict[str, Any]:
    """Return the MjSpec camera fields (fovy, resolution, sensor_size, focal_pixel, principal_pixel) for intr.

    MuJoCo's principal offset is (image centre - principal point) in pixel-edge coordinates on both
    axes: mjv_updateCamera uses frustum left = sensor/2 - px and top = sensor/2 - py (MuJoCo 3.x/4.0).
    """
    w, h = intr.width, intr.height
    pitch = 1e-3  # arbitrary virtual pixel pitch; only ratios matter
    focal = np.array([intr.fx, intr.fy])
    principal = np.array([w / 2.0 - (intr.cx + 0.5), h / 2.0 - (intr.cy + 0.5)])
    return {
        "fovy": intr.fovy_deg,
        "resolution": np.array([w, h], dtype=np.int32),
        "sensor_size": np.array([w * pitch, h * pitch]),
        "focal_pixel": focal,
        "focal_length": focal * pitch,
        "principal_pixel": principal,
        "principal_length": principal * pitch,
    }


def configure_mujoco_camera(mjs_camera: Any, intr: Intrinsics, T_parent_cam: Any) -> None:
    """Set pose and full intrinsics (via sensor_size / focal_pixel / principal_pixel) on an MjSpec camera.

    Near/far are not per-camera in MuJoCo: call set_mujoco_clip on the compiled model (or pass clip to
    MujocoCameraRenderer.render) so depth uses intr.near / intr.far.
    """
    pos, quat = mujoco_camera_pose(T_parent_cam)
    alt = getattr(mjs_camera, "alt", None)
    if alt is not None and int(alt.type) != 0:  # an euler/xyaxes/... orientation would override quat
        alt.type = type(alt.type)(0)  # mjORIENTATION_QUAT
    mjs_camera.pos = pos
    mjs_camera.quat = quat
    for key, value in mujoco_camera_intrinsics(intr).items():
        setattr(mjs_camera, key, value)


def mujoco_clip_planes(near: float, far: float, extent: float) -> tuple[float, float]:
    """Return (vis.map.znear, vis.map.zfar) making MuJoCo clip at near/far metres for a given stat.extent."""
    near, far = validate_clip(near, far)
    if not extent > 0:
        raise InputError(f"model stat.extent must be positive, got {extent}")
    return near / extent, far / extent


def set_mujoco_clip(model: Any, near: float, far: float) -> None:
    """Set model.vis.map.znear/zfar so the rendered clip planes (and depth) use near/far metres."""
    model.vis.map.znear, model.vis.map.zfar = mujoco_clip_planes(near, far, float(model.stat.extent))



# ----------------------------------------------------------------------------------------- PyBullet / OpenGL


def pybullet_view_matrix(T_world_cam: Any) -> list[float]:
    """Return the column-major 16-float OpenGL view matrix of an OpenCV T_world_cam."""
    T_gl = np.asarray(T_world_cam, dtype=np.float64).copy()
    T_gl[:3, :3] = T_gl[:3, :3] @ CV_TO_GL
    return invert_pose(T_gl).flatten(order="F").tolist()


def opengl_projection(intr: Intrinsics, pixel_offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Return the 4x4 OpenGL projection of K (row 0 of the image at the top), principal point shifted."""
    w, h, n, f = intr.width, intr.height, intr.near, intr.far
    cx = intr.cx + 0.5 + pixel_offset[0]  # pixel-edge coordinates
    cy = intr.cy + 0.5 + pixel_offset[1]
    P = np.zeros((4, 4))
    P[0, 0] = 2.0 * intr.fx / w
    P[0, 2] = 1.0 - 2.0 * cx / w
    P[1, 1] = 2.0 * intr.fy / h
    P[1, 2] = 2.0 * cy / h - 1.0
    P[2, 2] = -(f + n) / (f - n)
    P[2, 3] = -2.0 * f * n / (f - n)
    P[3, 2] = -1.0
    return P


def pybullet_projection_matrix(
    intr: Intrinsics, pixel_offset: tuple[float, float] = PYBULLET_TINY_PIXEL_OFFSET
) -> list[float]:
    """Return the column-major 16-float projection matrix for getCameraImage (TinyRenderer-corrected)."""
    return opengl_projection(intr, pixel_offset).flatten(order="F").tolist()


def opengl_depth_to_metric(depth_buffer: Any, near: float, far: float) -> np.ndarray:
    """Return float32 metric z-depth from an OpenGL [0, 1] depth buffer; 1.0 (far plane) maps to far."""
    d = np.asarray(depth_buffer, dtype=np.float64)
    near, far = validate_clip(near, far)
    z = far * near / (far - (far - near) * d)
    return z.astype(np.float32)


def metric_to_opengl_depth(z: Any, near: float, far: float) -> np.ndarray:
    """Return the OpenGL [0, 1] depth buffer value of metric z-depth (inverse of opengl_depth_to_metric)."""
    z = np.asarray(z, dtype=np.float64)
    near, far = validate_clip(near, far)
    return (far - far * near / z) / (far - near)
