"""In-place parameter setters for the MuJoCo backend (domain randomization applies through these).

Every setter writes an *absolute* value computed from the nominal model saved at build time, so the
result never depends on what earlier episodes set.
"""

from __future__ import annotations

import math

import numpy as np


def restitution_to_dampratio(e: float) -> float:
    """Return the MuJoCo solref damping ratio whose spring-damper contact bounces with restitution ``e``."""
    e = float(np.clip(e, 1e-4, 0.999))
    ln = math.log(e)
    return -ln / math.sqrt(math.pi**2 + ln * ln)


class MujocoParamsMixin:
    """Setters used by ``randomization.apply``; mixed into MujocoBackend."""

    def _save_nominal(self) -> None:
        m = self.model
        self._nominal = {
            "body_mass": m.body_mass.copy(),
            "body_inertia": m.body_inertia.copy(),
            "geom_rgba": m.geom_rgba.copy(),
            "geom_friction": m.geom_friction.copy(),
            "geom_solref": m.geom_solref.copy(),
            "geom_solmix": m.geom_solmix.copy(),
            "dof_damping": m.dof_damping.copy(),
            "gravity": m.opt.gravity.copy(),
            "actuator_gainprm": m.actuator_gainprm.copy(),
            "actuator_biasprm": m.actuator_biasprm.copy(),
            "light_pos": m.light_pos.copy(),
            "light_dir": m.light_dir.copy(),
            "light_diffuse": m.light_diffuse.copy(),
            "light_ambient": m.light_ambient.copy(),
        }

    def restore_nominal_params(self) -> None:
        """Put every randomizable model parameter back to its compiled value."""
        m = self.model
        for key, value in self._nominal.items():
            if key == "gravity":
                m.opt.gravity[:] = value
            else:
                getattr(m, key)[:] = value
        self._set_const()

    def _set_const(self) -> None:
        """Run mj_setConst (which uses mjData as scratch) without disturbing the current state."""
        state = self.get_state()
        self._mj.mj_setConst(self.model, self.data)
        self.set_state(state)

    def _body_geoms(self, name: str) -> np.ndarray:
        if name == "floor":
            return np.array([self._mj.mj_name2id(self.model, self._mj.mjtObj.mjOBJ_GEOM, "floor")])
        return np.flatnonzero(self.model.geom_bodyid == self._body_ids[name])

    def set_object_rgba(self, name: str, rgba) -> None:
        """Set the colour of every geom of an object (or the floor)."""
        self.model.geom_rgba[self._body_geoms(name)] = np.asarray(rgba, float)

    def set_object_mass(self, name: str, mass: float) -> None:
        """Set an object's mass, scaling its inertia by the same factor (call finalize_params after)."""
        i = self._body_ids[name]
        ratio = float(mass) / float(self._nominal["body_mass"][i])
        self.model.body_mass[i] = float(mass)
        self.model.body_inertia[i] = self._nominal["body_inertia"][i] * ratio

    def set_object_friction(self, name: str, friction: float) -> None:
        """Set the sliding friction coefficient of an object's geoms."""
        self.model.geom_friction[self._body_geoms(name), 0] = float(friction)

    def set_object_restitution(self, name: str, restitution: float) -> None:
        """Emulate restitution with a soft contact (solref damping ratio < 1) that dominates the mix."""
        g = self._body_geoms(name)
        if restitution <= 0:
            self.model.geom_solref[g] = self._nominal["geom_solref"][g]
            self.model.geom_solmix[g] = self._nominal["geom_solmix"][g]
            return
        self.model.geom_solref[g] = [0.02, restitution_to_dampratio(restitution)]
        self.model.geom_solmix[g] = 1e3

    def set_joint_damping(self, damping) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values, N m s / rad)."""
        self.model.dof_damping[self._arm_dadr] = np.broadcast_to(np.asarray(damping, float), (7,))

    def set_gravity(self, gravity) -> None:
        """Set the gravity vector (m/s^2)."""
        self.model.opt.gravity[:] = np.asarray(gravity, float)

    def set_gain_scale(self, scale: float) -> None:
        """Scale the arm position gains (kp and kv) by ``scale`` relative to the scene's values."""
        n = self._nominal
        self.model.actuator_gainprm[:7, 0] = n["actuator_gainprm"][:7, 0] * scale
        self.model.actuator_biasprm[:7, 1:3] = n["actuator_biasprm"][:7, 1:3] * scale

    def set_light(self, name: str, pos=None, direction=None, diffuse=None, ambient=None) -> None:
        """Set a light's position, direction and colours (values not given are left unchanged)."""
        i = self.model.light(name).id
        m = self.model
        if pos is not None:
            m.light_pos[i] = pos
        if direction is not None:
            d = np.asarray(direction, float)
            m.light_dir[i] = d / np.linalg.norm(d)
        if diffuse is not None:
            m.light_diffuse[i] = diffuse
        if ambient is not None:
            m.light_ambient[i] = ambient

    def finalize_params(self) -> None:
        """Recompute model constants and kinematics after a batch of setters (state is unchanged)."""
        self._set_const()
