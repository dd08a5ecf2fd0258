"""Joints of articulated objects on MuJoCo (mixed into MujocoBackend): state, teleport, damping and friction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.object_joints import ObjectJoints, articulated_objects, check_dynamics
from sim.types import Vector

if TYPE_CHECKING:
    from scenes.spec import SceneSpec


class MujocoJointsMixin:
    """Articulated-object joints: ``<object>/<joint>`` in the model, URDF names outside it."""

    model: Any
    data: Any
    _mj: Any

    def _index_object_joints(self, spec: SceneSpec, scene_dir: Path | None) -> None:
        mj, m = self._mj, self.model
        self._obj_joints: dict[str, ObjectJoints] = articulated_objects(spec, scene_dir)
        self._obj_adr: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, joints in self._obj_joints.items():
            ids = [mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, f"{name}/{j}") for j in joints.names]
            self._obj_adr[name] = (np.array([m.jnt_qposadr[i] for i in ids], int),
                                   np.array([m.jnt_dofadr[i] for i in ids], int))

    def _reset_object_joints(self) -> None:
        for name, joints in self._obj_joints.items():
            qa, da = self._obj_adr[name]
            self.data.qpos[qa] = joints.initial
            self.data.qvel[da] = 0.0

    def object_joint_names(self, name: str) -> tuple[str, ...]:
        """Return the movable joints of an articulated object (URDF names, file order); () for other objects."""
        joints = self._obj_joints.get(name)
        return joints.names if joints is not None else ()

    def object_joint_state(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, velocities) of an articulated object's movable joints (m or rad)."""
        qa, da = self._obj_adr[name]
        return self.data.qpos[qa].copy(), self.data.qvel[da].copy()

    def set_object_joint_positions(self, name: str, q: Vector) -> None:
        """Teleport an articulated object's movable joints to ``q`` with zero velocity."""
        qa, da = self._obj_adr[name]
        self.data.qpos[qa] = np.asarray(q, float)
        self.data.qvel[da] = 0.0
        self._mj.mj_forward(self.model, self.data)

    def set_object_joint_dynamics(self, name: str, damping: float | Vector, friction: float | Vector) -> None:
        """Set the damping (N s/m or N m s/rad) and friction (N or N m) of an object's movable joints."""
        _, da = self._obj_adr[name]
        d, f = check_dynamics(name, len(da), damping, friction)
        self.model.dof_damping[da] = d
        self.model.dof_frictionloss[da] = f

    def object_joint_dynamics(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (damping, friction) of an articulated object's movable joints."""
        _, da = self._obj_adr[name]
        return self.model.dof_damping[da].copy(), self.model.dof_frictionloss[da].copy()
