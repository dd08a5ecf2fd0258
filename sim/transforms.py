"""Rigid-transform helpers in numpy. Quaternions are (w, x, y, z) everywhere in robosynth."""

from __future__ import annotations

import numpy as np


def matrix_from_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Return R = Rz(yaw) @ Ry(pitch) @ Rx(roll) (the URDF convention)."""
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def matrix_from_quat(q: np.ndarray) -> np.ndarray:
    """Return the 3x3 rotation of unit quaternion (w, x, y, z)."""
    w, x, y, z = np.asarray(q, float) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def quat_from_matrix(R: np.ndarray) -> np.ndarray:
    """Return the unit quaternion (w, x, y, z) with w >= 0 of rotation matrix ``R``."""
    R = np.asarray(R, float)
    t = np.trace(R)
    if t > 0:
        s = np.sqrt(t + 1.0) * 2
        q = np.array([0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s])
    elif R[0, 0] > R[1, 1] and R[0, 0] > R[2, 2]:
        s = np.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2]) * 2
        q = np.array([(R[2, 1] - R[1, 2]) / s, 0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s])
    elif R[1, 1] > R[2, 2]:
        s = np.sqrt(1.0 + R[1, 1] - R[0, 0] - R[2, 2]) * 2
        q = np.array([(R[0, 2] - R[2, 0]) / s, (R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s])
    else:
        s = np.sqrt(1.0 + R[2, 2] - R[0, 0] - R[1, 1]) * 2
        q = np.array([(R[1, 0] - R[0, 1]) / s, (R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s])
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q


def pose_to_matrix(pos: np.ndarray, quat: np.ndarray) -> np.ndarray:
    """Return the 4x4 homogeneous transform of (pos, quat wxyz)."""
    T = np.eye(4)
    T[:3, :3] = matrix_from_quat(quat)
    T[:3, 3] = pos
    return T


def rotvec_from_matrix(R: np.ndarray) -> np.ndarray:
    """Return the axis-angle vector (axis * angle) of rotation ``R``."""
    cos = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    if angle < 1e-9:
        return np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / 2.0
    if np.pi - angle < 1e-6:
        # 180 degrees: axis from the diagonal.
        axis = np.sqrt(np.clip((np.diag(R) + 1.0) / 2.0, 0.0, None))
        i = int(np.argmax(axis))
        for j in range(3):
            if j != i:
                axis[j] = np.copysign(axis[j], R[i, j] + R[j, i])
        return axis / np.linalg.norm(axis) * angle
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    return v / (2.0 * np.sin(angle)) * angle


def quat_xyzw_to_wxyz(q) -> np.ndarray:
    """Convert a PyBullet (x, y, z, w) quaternion to (w, x, y, z)."""
    return np.array([q[3], q[0], q[1], q[2]], dtype=float)


def quat_wxyz_to_xyzw(q) -> list[float]:
    """Convert a (w, x, y, z) quaternion to PyBullet's (x, y, z, w)."""
    return [float(q[1]), float(q[2]), float(q[3]), float(q[0])]


def quat_angle(q1: np.ndarray, q2: np.ndarray) -> float:
    """Return the rotation angle (rad) between two unit quaternions."""
    d = abs(float(np.dot(q1, q2)) / (np.linalg.norm(q1) * np.linalg.norm(q2)))
    return 2.0 * float(np.arccos(min(1.0, d)))
