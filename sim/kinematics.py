"""Engine-independent Panda kinematics (forward kinematics and damped least-squares IK) in numpy.

The chain is read from the same URDF both engines load, so the controller computes identical joint
targets on MuJoCo and PyBullet for the same action sequence.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from sim.assets import panda_urdf_text
from sim.transforms import matrix_from_rpy, pose_to_matrix, rotvec_from_matrix


@dataclass(frozen=True)
class ChainJoint:
    """One URDF joint on the chain from the base link to the tool frame."""

    name: str
    kind: str  # "revolute" | "fixed"
    origin: np.ndarray  # 4x4 parent->joint frame
    axis: np.ndarray  # (3,)
    lower: float
    upper: float


def _origin(el: ET.Element | None) -> np.ndarray:
    T = np.eye(4)
    if el is None:
        return T
    xyz = [float(v) for v in el.get("xyz", "0 0 0").split()]
    rpy = [float(v) for v in el.get("rpy", "0 0 0").split()]
    T[:3, :3] = matrix_from_rpy(*rpy)
    T[:3, 3] = xyz
    return T


def _sub_attr(el: ET.Element, tag: str, attr: str) -> str:
    """Return attribute ``attr`` of the required child element ``tag`` (ValueError if either is missing)."""
    sub = el.find(tag)
    if sub is None or attr not in sub.attrib:
        raise ValueError(f"URDF joint '{el.get('name')}': missing <{tag} {attr}=...>")
    return sub.attrib[attr]


@functools.lru_cache(maxsize=1)
def panda_chain(tip: str = "panda_grasptarget") -> tuple[ChainJoint, ...]:
    """Return the joints from ``panda_link0`` to ``tip`` as parsed from the URDF."""
    text, _ = panda_urdf_text()
    root = ET.fromstring(text)
    by_child = {_sub_attr(j, "child", "link"): j for j in root.findall("joint")}
    chain: list[ChainJoint] = []
    link = tip
    while link in by_child:
        j = by_child[link]
        lim = j.find("limit")
        axis = j.find("axis")
        chain.append(
            ChainJoint(
                name=j.get("name", ""),
                kind=j.get("type", "fixed"),
                origin=_origin(j.find("origin")),
                axis=np.array([float(v) for v in (axis.attrib["xyz"] if axis is not None else "0 0 1").split()]),
                lower=float(lim.get("lower", "-inf")) if lim is not None else -np.inf,
                upper=float(lim.get("upper", "inf")) if lim is not None else np.inf,
            )
        )
        link = _sub_attr(j, "parent", "link")
    return tuple(reversed(chain))


def _axis_rot(axis: np.ndarray, q: float) -> np.ndarray:
    x, y, z = axis / np.linalg.norm(axis)
    c, s = np.cos(q), np.sin(q)
    C = 1 - c
    return np.array(
        [
            [c + x * x * C, x * y * C - z * s, x * z * C + y * s],
            [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
            [z * x * C - y * s, z * y * C + x * s, c + z * z * C],
        ]
    )


class PandaKinematics:
    """Forward kinematics and IK of the Panda arm (7 revolute joints) to a tool link."""

    def __init__(self, base_pos=(0.0, 0.0, 0.0), base_quat=(1.0, 0.0, 0.0, 0.0), tip: str = "panda_grasptarget"):
        self.chain = panda_chain(tip)
        self.revolute = [j for j in self.chain if j.kind == "revolute"]
        assert len(self.revolute) == 7, "expected 7 arm joints"
        self.lower = np.array([j.lower for j in self.revolute])
        self.upper = np.array([j.upper for j in self.revolute])
        self.T_base = pose_to_matrix(np.asarray(base_pos, float), np.asarray(base_quat, float))
        self._unit_axes = np.stack([j.axis / np.linalg.norm(j.axis) for j in self.revolute])

    def fk(self, q: np.ndarray) -> np.ndarray:
        """Return the 4x4 world pose of the tool link for arm joints ``q`` (7,)."""
        return self._fk_all(q)[-1]

    def _fk_all(self, q: np.ndarray) -> list[np.ndarray]:
        T = self.T_base.copy()
        frames = []
        i = 0
        for j in self.chain:
            T = T @ j.origin
            if j.kind == "revolute":
                R = np.eye(4)
                R[:3, :3] = _axis_rot(j.axis, float(q[i]))
                T = T @ R
                frames.append(T.copy())
                i += 1
        frames.append(T)
        return frames

    def jacobian(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (tool pose 4x4, 6x7 geometric Jacobian [linear; angular]) in the world frame."""
        frames = self._fk_all(q)
        tip = frames[-1]
        F = np.stack(frames[:-1])  # (7, 4, 4) joint frames
        W = np.einsum("nij,nj->ni", F[:, :3, :3], self._unit_axes)  # joint axes in the world
        D = tip[:3, 3] - F[:, :3, 3]
        lin = np.stack([W[:, 1] * D[:, 2] - W[:, 2] * D[:, 1], W[:, 2] * D[:, 0] - W[:, 0] * D[:, 2],
                        W[:, 0] * D[:, 1] - W[:, 1] * D[:, 0]])
        return tip, np.vstack([lin, W.T])

    def ik(
        self,
        target_pos: np.ndarray,
        target_rot: np.ndarray,
        q_init: np.ndarray,
        q_rest: np.ndarray | None = None,
        iters: int = 30,
        damping: float = 0.02,
        tol: float = 1e-4,
    ) -> np.ndarray:
        """Return joints reaching (target_pos, target_rot) by damped least squares from ``q_init``."""
        q = np.clip(np.asarray(q_init, float).copy(), self.lower, self.upper)
        rest = q.copy() if q_rest is None else np.asarray(q_rest, float)
        lam2 = damping * damping
        for _ in range(iters):
            T, J = self.jacobian(q)
            err = np.concatenate([target_pos - T[:3, 3], rotvec_from_matrix(target_rot @ T[:3, :3].T)])
            if np.linalg.norm(err[:3]) < tol and np.linalg.norm(err[3:]) < 10 * tol:
                break
            JJt = J @ J.T + lam2 * np.eye(6)
            dq = J.T @ np.linalg.solve(JJt, err)
            # Null-space pull toward the rest posture keeps the elbow away from limits.
            N = np.eye(7) - J.T @ np.linalg.solve(JJt, J)
            dq += N @ (0.1 * (rest - q))
            q = np.clip(q + dq, self.lower, self.upper)
        return q


def down_rotation(yaw: float) -> np.ndarray:
    """Return the tool rotation pointing straight down (tool z = -world z) with the given yaw."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])


def yaw_of_down_rotation(R: np.ndarray) -> float:
    """Return the yaw of a (roughly) downward tool rotation: angle of its x axis in the world xy plane."""
    return float(np.arctan2(R[1, 0], R[0, 0]))
