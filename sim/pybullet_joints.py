"""Articulated objects on PyBullet (mixed into PybulletBackend): loading, joint state, damping and friction.

PyBullet loads the URDF itself (inertia from the file, no self-collision). Its links are named
``<object>/<link>`` in contacts and ``body_pose``, as on MuJoCo. Joint damping is Bullet's joint damping; joint
friction is a velocity motor with target 0 whose maximum force is the friction (Coulomb friction, as MuJoCo's
``frictionloss``). The base's poses are the URDF link frame (Bullet's base frame is the link's inertial frame).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.object_joints import ObjectJoints, articulated_objects, check_dynamics, load_urdf
from sim.transforms import quat_wxyz_to_xyzw
from sim.types import Vector

if TYPE_CHECKING:
    from scenes.spec import ObjectSpec, SceneSpec


class PybulletJointsMixin:
    """Articulated-object joints on PyBullet."""

    client: Any
    _pb: Any
    _names: dict[tuple[int, int], str]
    _bodies: dict[str, tuple[int, int]]
    _fresh: bool
    _base_inertial: dict[int, tuple[Any, Any]]  # articulated body id -> its base's inertial frame (set in build)

    def _load_articulated(self, o: ObjectSpec, scene_dir: Path | None) -> int:
        """Load an articulated object with its root link frame at ``o.pose``; return its body id."""
        c, pb = self.client, self._pb
        uid = c.loadURDF(load_urdf(o, scene_dir).path, list(o.pose.pos), quat_wxyz_to_xyzw(o.pose.quat),
                         useFixedBase=o.fixed, flags=pb.URDF_USE_INERTIA_FROM_FILE)
        self._base_inertial[uid] = (c.getDynamicsInfo(uid, -1)[3], c.getDynamicsInfo(uid, -1)[4])
        for j in range(c.getNumJoints(uid)):
            link = f"{o.name}/{c.getJointInfo(uid, j)[12].decode()}"
            self._names[(uid, j)] = link
            self._bodies[link] = (uid, j)
            c.changeDynamics(uid, j, lateralFriction=o.friction)
        return uid

    def _index_object_joints(self, spec: SceneSpec, scene_dir: Path | None) -> None:
        c = self.client
        self._obj_joints: dict[str, ObjectJoints] = articulated_objects(spec, scene_dir)
        self._obj_idx: dict[str, tuple[int, list[int]]] = {}
        self._obj_dynamics: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, joints in self._obj_joints.items():
            uid = self._bodies[name][0]
            by_name = {c.getJointInfo(uid, j)[1].decode(): j for j in range(c.getNumJoints(uid))}
            self._obj_idx[name] = (uid, [by_name[n] for n in joints.names])
            self._apply_joint_dynamics(name, joints.damping, joints.friction)

    def _apply_joint_dynamics(self, name: str, damping: np.ndarray, friction: np.ndarray) -> None:
        c, pb = self.client, self._pb
        uid, idx = self._obj_idx[name]
        for j, d, f in zip(idx, damping, friction, strict=True):
            c.changeDynamics(uid, j, jointDamping=float(d))
            c.setJointMotorControl2(uid, j, pb.VELOCITY_CONTROL, targetVelocity=0.0, force=float(f))
        self._obj_dynamics[name] = (damping.copy(), friction.copy())

    def _restore_joint_dynamics(self) -> None:
        for name, joints in self._obj_joints.items():
            self._apply_joint_dynamics(name, joints.damping, joints.friction)

    def _reset_object_joints(self) -> None:
        for name, joints in self._obj_joints.items():
            uid, idx = self._obj_idx[name]
            for j, q in zip(idx, joints.initial, strict=True):
                self.client.resetJointState(uid, j, float(q), 0.0)

    def _link_frame_to_base(self, uid: int, pos: Any, orn: Any) -> tuple[Any, Any]:
        """Return Bullet's base (inertial) pose for a root-link-frame pose of an articulated object."""
        inertial = self._base_inertial.get(uid)
        return (pos, orn) if inertial is None else self.client.multiplyTransforms(pos, orn, *inertial)

    def _base_to_link_frame(self, uid: int, pos: Any, orn: Any) -> tuple[Any, Any]:
        """Return the root link frame's pose for Bullet's base (inertial) pose."""
        inertial = self._base_inertial.get(uid)
        if inertial is None:
            return pos, orn
        return self.client.multiplyTransforms(pos, orn, *self.client.invertTransform(*inertial))

    def _object_joint_vector(self) -> list[np.ndarray]:
        """Return [q, qd] of every articulated object's joints (the tail of the state vector)."""
        out: list[np.ndarray] = []
        for name in self._obj_joints:
            q, qd = self.object_joint_state(name)
            out += [q, qd]
        return out

    def _set_object_joint_vector(self, tail: np.ndarray) -> None:
        k = 0
        for name in self._obj_joints:
            uid, idx = self._obj_idx[name]
            n = len(idx)
            for j, q, qd in zip(idx, tail[k : k + n], tail[k + n : k + 2 * n], strict=True):
                self.client.resetJointState(uid, j, float(q), float(qd))
            k += 2 * n

    def _object_joint_count(self) -> int:
        return sum(len(j.names) for j in self._obj_joints.values())

    def object_joint_names(self, name: str) -> tuple[str, ...]:
        """Return the movable joints of an articulated object (URDF names, file order); () for other objects."""
        joints = self._obj_joints.get(name)
        return joints.names if joints is not None else ()

    def object_joint_state(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, velocities) of an articulated object's movable joints (m or rad)."""
        uid, idx = self._obj_idx[name]
        states = self.client.getJointStates(uid, idx)
        return np.array([s[0] for s in states], float), np.array([s[1] for s in states], float)

    def set_object_joint_positions(self, name: str, q: Vector) -> None:
        """Teleport an articulated object's movable joints to ``q`` with zero velocity."""
        self._fresh = False
        uid, idx = self._obj_idx[name]
        for j, v in zip(idx, np.asarray(q, float), strict=True):
            self.client.resetJointState(uid, j, float(v), 0.0)

    def set_object_joint_dynamics(self, name: str, damping: float | Vector, friction: float | Vector) -> None:
        """Set the damping (N s/m or N m s/rad) and friction (N or N m) of an object's movable joints."""
        d, f = check_dynamics(name, len(self._obj_idx[name][1]), damping, friction)
        self._apply_joint_dynamics(name, d, f)

    def object_joint_dynamics(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (damping, friction) of an articulated object's movable joints."""
        d, f = self._obj_dynamics[name]
        return d.copy(), f.copy()
