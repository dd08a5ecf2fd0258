"""Engine-independent Panda kinematics: forward kinematics and damped least-squares IK.

The chain is read from the same URDF both engines load, so the controller computes identical joint
targets on MuJoCo and PyBullet for the same action sequence.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.assets import panda_urdf_text
from sim.transforms import matrix_from_rpy, pose_to_matrix, quat_from_matrix


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


def _kinematic_model(chain: tuple[ChainJoint, ...], T_base: np.ndarray) -> Any:
    """Compile a kinematics-only MuJoCo model of ``chain``: one body per revolute joint, a ``tip`` site.

    Fixed joints fold into the next body's offset; no geometry, so ``mj_kinematics`` is all it costs.
    """
    import mujoco

    ms = mujoco.MjSpec()
    ms.modelname = "robosynth_panda_kinematics"
    parent = ms.worldbody
    T = T_base.copy()
    for j in chain:
        T = T @ j.origin
        if j.kind != "revolute":
            continue
        body = parent.add_body(pos=T[:3, 3].tolist(), quat=quat_from_matrix(T[:3, :3]).tolist())
        body.add_joint(name=j.name, type=mujoco.mjtJoint.mjJNT_HINGE, axis=(j.axis / np.linalg.norm(j.axis)).tolist())
        body.add_geom(size=[0.01, 0, 0], contype=0, conaffinity=0, mass=0.1)  # inertia only; never collides
        parent, T = body, np.eye(4)
    parent.add_site(name="tip", pos=T[:3, 3].tolist(), quat=quat_from_matrix(T[:3, :3]).tolist())
    return ms.compile()


def _ik_buffers() -> tuple[np.ndarray, ...]:
    """Return the IK's scratch arrays: J (6x7), A (6x6), two solutions, the pose error with its position and
    rotation halves (views), the projected pull, the joint step and A's diagonal (a strided view)."""
    J, L, y, err = np.zeros((6, 7)), np.zeros((6, 6)), np.zeros((2, 6)), np.zeros(6)
    return J, L, y[0], y[1], err, err[:3], err[3:], np.zeros(6), np.zeros(7), np.einsum("ii->i", L)


STALL = 0.99  # an iteration that leaves more than this share of the squared pose error is the IK's last
QUADRATIC_ZONE = 1e-3  # m: a pose error below this (and 10x it in rad) needs one more Gauss-Newton step at most


class PandaKinematics:
    """Forward kinematics and IK of the Panda arm (7 revolute joints) to a tool link.

    The chain comes from the URDF both engines load; FK and the Jacobian are MuJoCo's own C functions
    (``mj_kinematics``, ``mj_comPos``, ``mj_jacSite``) on a kinematics-only model of that chain, used
    identically whichever engine simulates the scene.
    """

    def __init__(self, base_pos: Any = (0.0, 0.0, 0.0), base_quat: Any = (1.0, 0.0, 0.0, 0.0),
                 tip: str = "panda_grasptarget"):
        import mujoco

        self._mj = mujoco
        self.chain = panda_chain(tip)
        self.revolute = [j for j in self.chain if j.kind == "revolute"]
        assert len(self.revolute) == 7, "expected 7 arm joints"
        self.lower = np.array([j.lower for j in self.revolute])
        self.upper = np.array([j.upper for j in self.revolute])
        self.T_base = pose_to_matrix(np.asarray(base_pos, float), np.asarray(base_quat, float))
        self.model = _kinematic_model(self.chain, self.T_base)
        self.data = mujoco.MjData(self.model)
        self._jac = np.zeros((6, 7))
        self._quat = np.zeros((4, 4))  # scratch: target, current, conjugate, error quaternions
        self._buffers = _ik_buffers()

    def _forward(self, q: np.ndarray) -> None:
        self.data.qpos[:] = q
        self._mj.mj_kinematics(self.model, self.data)

    def _tip(self) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = self.data.site_xmat[0].reshape(3, 3)
        T[:3, 3] = self.data.site_xpos[0]
        return T

    def fk(self, q: np.ndarray) -> np.ndarray:
        """Return the 4x4 world pose of the tool link for arm joints ``q`` (7,)."""
        self._forward(q)
        return self._tip()

    def jacobian(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (tool pose 4x4, 6x7 geometric Jacobian [linear; angular]) in the world frame."""
        self._forward(q)
        self._mj.mj_comPos(self.model, self.data)
        self._mj.mj_jacSite(self.model, self.data, self._jac[:3], self._jac[3:], 0)
        return self._tip(), self._jac.copy()

    def ik(
        self,
        target_pos: np.ndarray,
        target_rot: np.ndarray,
        q_init: np.ndarray,
        q_rest: np.ndarray | None = None,
        iters: int = 30,
        damping: float = 0.02,
        tol: float = 1e-4,
        posture_gain: float = 0.5,
    ) -> np.ndarray:
        """Return joints reaching (target_pos, target_rot) by damped least squares from ``q_init``.

        The first iteration also moves ``posture_gain`` of the way toward ``q_rest`` inside the null space of
        the task (keeps the elbow away from its limits); the next ones are damped Gauss-Newton steps on the
        pose error alone, until it is below ``tol`` metres and ``10 tol`` radians (2-3 iterations for one
        control step's motion) or, for a target out of reach, until an iteration shrinks the squared error
        (m^2 + rad^2) by less than 1 % (``STALL``; 4-6 iterations where 30 used to run). Each step:
        dq = J^T A^-1 e + (I - J^T A^-1 J) p with A = J J^T + damping^2 I, one solve with two right-hand sides.
        """
        mj, m, d = self._mj, self.model, self.data
        lower, upper = self.lower, self.upper
        q = np.minimum(np.maximum(np.asarray(q_init, float), lower), upper)
        pull = posture_gain * ((q if q_rest is None else np.asarray(q_rest, float)) - q)
        use_pull = bool(pull.any())
        qt, qc, qi, qe = self._quat
        mj.mju_mat2Quat(qt, np.ascontiguousarray(target_rot, dtype=float).ravel())
        lam = damping * damping
        target = np.ascontiguousarray(target_pos, dtype=float)
        # preallocated views: every numpy or mju call on a fresh slice costs as much as the arithmetic here
        J, L, y0, y1, err, err_p, err_r, pull_task, dq, diag = self._buffers
        qpos, site_pos, site_mat = d.qpos, d.site_xpos[0], d.site_xmat[0]
        tol_p, tol_r, merit = tol * tol, 100 * tol * tol, np.inf
        zone_p, zone_r = QUADRATIC_ZONE**2, (10 * QUADRATIC_ZONE) ** 2
        for _ in range(iters):
            qpos[:] = q
            mj.mj_kinematics(m, d)
            mj.mju_sub3(err_p, target, site_pos)
            mj.mju_mat2Quat(qc, site_mat)
            mj.mju_negQuat(qi, qc)
            mj.mju_mulQuat(qe, qt, qi)
            mj.mju_quat2Vel(err_r, qe, 1.0)  # rotation vector of target_rot @ R^T, in the world frame
            last = False
            if not use_pull:
                pos_sq, rot_sq = mj.mju_dot3(err_p, err_p), mj.mju_dot3(err_r, err_r)
                if pos_sq < tol_p and rot_sq < tol_r:
                    break
                if pos_sq + rot_sq > STALL * merit:  # out of reach: the error has stopped shrinking
                    break
                merit = pos_sq + rot_sq
                # Gauss-Newton converges quadratically: from an error this small one more step ends far below
                # tol (|e| ~ 1e-3 m -> ~1e-6 m), so it is the last, without another FK to confirm it.
                last = pos_sq < zone_p and rot_sq < zone_r
            mj.mj_comPos(m, d)
            mj.mj_jacSite(m, d, J[:3], J[3:], 0)
            mj.mju_mulMatMatT(L, J, J)  # A = J J^T + damping^2 I, factored in place
            diag += lam
            mj.mju_cholFactor(L, 0.0)
            mj.mju_cholSolve(y0, L, err)
            if use_pull:  # the posture pull, projected out of the task (first iteration only)
                mj.mju_mulMatVec(pull_task, J, pull)
                mj.mju_cholSolve(y1, L, pull_task)
                y0 -= y1
                mj.mju_mulMatTVec(dq, J, y0)
                q += dq
                q += pull
                use_pull = False
            else:
                mj.mju_mulMatTVec(dq, J, y0)
                q += dq
            np.maximum(q, lower, out=q)
            np.minimum(q, upper, out=q)
            if last:
                break
        return q


def down_rotation(yaw: float) -> np.ndarray:
    """Return the tool rotation pointing straight down (tool z = -world z) with the given yaw."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])


def yaw_of_down_rotation(R: np.ndarray) -> float:
    """Return the yaw of a (roughly) downward tool rotation: angle of its x axis in the world xy plane."""
    return float(np.arctan2(R[1, 0], R[0, 0]))
