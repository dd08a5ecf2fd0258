"""Camera math: intrinsics, OpenCV-convention extrinsics, projection and engine conventions (pure numpy).

Conventions (docs/cameras.md): camera frame x right, y down, z forward; T_world_cam maps camera to
world coordinates; pixel (column i, row j) has its centre at (u, v) = (i, j) as in OpenCV / ROS, so a
centred principal point is ((W - 1) / 2, (H - 1) / 2); depth is metric z-depth; quaternions are (w, x, y, z).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.errors import InputError

MAX_RESOLUTION = 4096
"""Largest accepted image side in pixels."""

# Rotation taking OpenCV camera axes (x right, y down, z forward) to OpenGL / MuJoCo camera axes
# (x right, y up, looking along -z); it is its own inverse.
CV_TO_GL = np.diag([1.0, -1.0, -1.0])

PYBULLET_TINY_PIXEL_OFFSET = (-0.5, 0.5)
"""Principal-point shift (px) cancelling TinyRenderer's measured (+0.5, -0.5) px mask offset (docs/cameras.md)."""


# ----------------------------------------------------------------------------------------- intrinsics


def validate_resolution(width: Any, height: Any) -> tuple[int, int]:
    """Return (width, height) as ints, or raise InputError for non-int, <= 0 or too large values."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"camera {name} must be an integer number of pixels, got {value!r}")
        if value <= 0:
            raise InputError(f"camera {name} must be positive, got {value}")
        if value > MAX_RESOLUTION:
            raise InputError(f"camera {name} {value} exceeds the maximum of {MAX_RESOLUTION} pixels")
    return int(width), int(height)


_RES_RE = re.compile(r"^\s*(-?\d+)\s*[xX]\s*(-?\d+)\s*$")


def parse_resolution(text: str) -> tuple[int, int]:
    """Return (width, height) from ``WxH`` (the one parser of every ``--resolution`` flag); InputError for bad
    syntax, 0, negative or too large sizes."""
    m = _RES_RE.match(text or "")
    if not m:
        raise InputError(f"--resolution must look like WIDTHxHEIGHT (e.g. 128x128), got '{text}'")
    try:
        return validate_resolution(int(m.group(1)), int(m.group(2)))
    except InputError as exc:
        raise InputError(f"--resolution: {str(exc).removeprefix('camera ')}") from None


def validate_clip(near: float, far: float) -> tuple[float, float]:
    near, far = float(near), float(far)
    if not (math.isfinite(near) and math.isfinite(far)) or near <= 0.0 or far <= near:
        raise InputError(f"camera clip planes need 0 < near < far, got near={near}, far={far}")
    return near, far


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Intrinsics:
    """Pinhole intrinsics plus OpenCV distortion (k1 k2 p1 p2 k3) and clip planes in metres."""

    width: int
    height: int
    K: np.ndarray
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(5))
    near: float = 0.01
    far: float = 10.0

    def __post_init__(self) -> None:
        w, h = validate_resolution(self.width, self.height)
        K = np.asarray(self.K, dtype=np.float64)
        if K.shape != (3, 3) or not np.all(np.isfinite(K)):
            raise InputError(f"camera matrix K must be a finite 3x3 matrix, got shape {K.shape}")
        if K[0, 0] <= 0 or K[1, 1] <= 0 or K[0, 1] != 0 or np.any(K[2] != [0.0, 0.0, 1.0]):
            raise InputError("camera matrix K must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0")
        dist = np.asarray(self.distortion, dtype=np.float64).reshape(-1)
        if dist.size == 4:
            dist = np.append(dist, 0.0)
        if dist.size != 5 or not np.all(np.isfinite(dist)):
            raise InputError(f"distortion needs 4 or 5 OpenCV coefficients (k1 k2 p1 p2 k3), got {dist.size}")
        near, far = validate_clip(self.near, self.far)
        object.__setattr__(self, "width", w)
        object.__setattr__(self, "height", h)
        object.__setattr__(self, "K", _readonly(K))
        object.__setattr__(self, "distortion", _readonly(dist))
        object.__setattr__(self, "near", near)
        object.__setattr__(self, "far", far)

    @classmethod
    def from_fovy(
        cls, fovy_deg: float, width: int, height: int, near: float = 0.01, far: float = 10.0
    ) -> Intrinsics:
        """Return square-pixel intrinsics with vertical fov fovy_deg and a centred principal point."""
        w, h = validate_resolution(width, height)
        if not 0.0 < float(fovy_deg) < 180.0:
            raise InputError(f"camera fovy must be in (0, 180) degrees, got {fovy_deg}")
        f = 0.5 * h / math.tan(math.radians(float(fovy_deg)) / 2.0)
        K = np.array([[f, 0.0, (w - 1) / 2.0], [0.0, f, (h - 1) / 2.0], [0.0, 0.0, 1.0]])
        return cls(w, h, K, np.zeros(5), near, far)

    @classmethod
    def from_K(
        cls,
        K: Any,
        width: int,
        height: int,
        distortion: Any = None,
        near: float = 0.01,
        far: float = 10.0,
    ) -> Intrinsics:
        """Return intrinsics from a 3x3 OpenCV camera matrix (pixel centres at integers)."""
        dist = np.zeros(5) if distortion is None else distortion
        return cls(width, height, np.asarray(K, dtype=np.float64), dist, near, far)

    @property
    def fx(self) -> float:
        """Return the focal length along x in pixels."""
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        """Return the focal length along y in pixels."""
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        """Return the principal point x in pixels (OpenCV convention)."""
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        """Return the principal point y in pixels (OpenCV convention)."""
        return float(self.K[1, 2])

    @property
    def fovy_deg(self) -> float:
        """Return the vertical field of view in degrees (exact for a centred principal point)."""
        return math.degrees(2.0 * math.atan(0.5 * self.height / self.fy))

    @property
    def fovx_deg(self) -> float:
        """Return the horizontal field of view in degrees (exact for a centred principal point)."""
        return math.degrees(2.0 * math.atan(0.5 * self.width / self.fx))

    @property
    def has_distortion(self) -> bool:
        """Return True when any distortion coefficient is non-zero."""
        return bool(np.any(self.distortion != 0.0))

    def replace(self, **changes: Any) -> Intrinsics:
        """Return a copy with some fields changed."""
        kw = {k: getattr(self, k) for k in ("width", "height", "K", "distortion", "near", "far")}
        kw.update(changes)
        return Intrinsics(**kw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Intrinsics):
            return NotImplemented
        return (
            (self.width, self.height, self.near, self.far)
            == (other.width, other.height, other.near, other.far)
            and np.array_equal(self.K, other.K)
            and np.array_equal(self.distortion, other.distortion)
        )

    __hash__ = object.__hash__


# ----------------------------------------------------------------------------------------- rotations


def quat_normalize(q: Any) -> np.ndarray:
    """Return the unit quaternion (w, x, y, z) with w >= 0."""
    q = np.asarray(q, dtype=np.float64).reshape(4)
    n = np.linalg.norm(q)
    if not np.isfinite(n) or n < 1e-12:
        raise InputError(f"quaternion must be finite and non-zero, got {q.tolist()}")
    q = q / n
    return -q if q[0] < 0 else q


def quat_multiply(a: Any, b: Any) -> np.ndarray:
    """Return the Hamilton product a * b of two (w, x, y, z) quaternions."""
    w1, x1, y1, z1 = np.asarray(a, dtype=np.float64)
    w2, x2, y2, z2 = np.asarray(b, dtype=np.float64)
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def matrix_from_quat_wxyz(q: Any) -> np.ndarray:
    """Return the 3x3 rotation matrix of a (w, x, y, z) quaternion."""
    w, x, y, z = quat_normalize(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def quat_wxyz_from_matrix(R: Any) -> np.ndarray:
    """Return the unit (w, x, y, z) quaternion (w >= 0) of a 3x3 rotation matrix."""
    R = np.asarray(R, dtype=np.float64)[:3, :3]
    tr = np.trace(R)
    if tr > 0:
        s = 2.0 * math.sqrt(tr + 1.0)
        q = [0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s]
    elif R[0, 0] > R[1, 1] and R[0, 0] > R[2, 2]:
        s = 2.0 * math.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2])
        q = [(R[2, 1] - R[1, 2]) / s, 0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s]
    elif R[1, 1] > R[2, 2]:
        s = 2.0 * math.sqrt(1.0 + R[1, 1] - R[0, 0] - R[2, 2])
        q = [(R[0, 2] - R[2, 0]) / s, (R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + R[2, 2] - R[0, 0] - R[1, 1])
        q = [(R[1, 0] - R[0, 1]) / s, (R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s]
    return quat_normalize(q)


# ----------------------------------------------------------------------------------------- poses


def pose_matrix(pos: Any, quat_wxyz: Any) -> np.ndarray:
    """Return the 4x4 homogeneous transform of a position and (w, x, y, z) quaternion."""
    T = np.eye(4)
    T[:3, :3] = matrix_from_quat_wxyz(quat_wxyz)
    T[:3, 3] = np.asarray(pos, dtype=np.float64).reshape(3)
    return T


def pose_from_matrix(T: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (pos, quat_wxyz) of a 4x4 homogeneous transform."""
    T = np.asarray(T, dtype=np.float64)
    return T[:3, 3].copy(), quat_wxyz_from_matrix(T[:3, :3])


def invert_pose(T: Any) -> np.ndarray:
    """Return the inverse of a rigid 4x4 transform."""
    T = np.asarray(T, dtype=np.float64)
    Ti = np.eye(4)
    Ti[:3, :3] = T[:3, :3].T
    Ti[:3, 3] = -T[:3, :3].T @ T[:3, 3]
    return Ti


def look_at(eye: Any, target: Any, up: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Return T_world_cam (OpenCV axes) of a camera at eye whose +z points at target.

    When the viewing direction is parallel to ``up``, world +y (then +x) is used as the up hint, so a
    camera looking straight down has image x along world +x and image y along world -y.
    """
    eye = np.asarray(eye, dtype=np.float64).reshape(3)
    z = np.asarray(target, dtype=np.float64).reshape(3) - eye
    if np.linalg.norm(z) < 1e-12:
        raise InputError("look_at needs target different from eye")
    z /= np.linalg.norm(z)
    for hint in (np.asarray(up, dtype=np.float64), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])):
        x = np.cross(z, hint)
        if np.linalg.norm(x) > 1e-9 * max(1.0, float(np.linalg.norm(hint))):
            break
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([x, y, z])
    T[:3, 3] = eye
    return T


# ----------------------------------------------------------------------------------------- projection


def project(points_world: Any, K: Any, T_world_cam: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (uv (N, 2) pixel coordinates, z (N,) depth); uv is NaN for points with z <= 0."""
    P = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    T_cam_world = invert_pose(T_world_cam)
    Pc = P @ T_cam_world[:3, :3].T + T_cam_world[:3, 3]
    z = Pc[:, 2].copy()
    K = np.asarray(K, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = Pc[:, :2] / z[:, None]
    uv = np.column_stack([K[0, 0] * xy[:, 0] + K[0, 1] * xy[:, 1] + K[0, 2], K[1, 1] * xy[:, 1] + K[1, 2]])
    uv[z <= 0] = np.nan
    return uv, z


def backproject(depth: Any, K: Any, T_world_cam: Any, mask: Any = None) -> np.ndarray:
    """Return world points (M, 3) of pixels with finite positive z-depth (and mask, if given)."""
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[..., 0]
    valid = np.isfinite(depth) & (depth > 0)
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool).reshape(depth.shape)
    v, u = np.nonzero(valid)
    z = depth[v, u]
    K = np.asarray(K, dtype=np.float64)
    y = (v - K[1, 2]) / K[1, 1]
    x = (u - K[0, 2] - K[0, 1] * y) / K[0, 0]
    Pc = np.column_stack([x * z, y * z, z])
    T = np.asarray(T_world_cam, dtype=np.float64)
    return Pc @ T[:3, :3].T + T[:3, 3]
