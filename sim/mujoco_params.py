"""In-place parameter setters for the MuJoCo backend (domain randomization applies through these).

Every setter writes an *absolute* value computed from the nominal model saved at build time, so the
result never depends on what earlier episodes set. ``mj_setConst`` (needed after mass changes) overwrites
``data.qpos`` with ``qpos0``; ``finalize_params`` and ``restore_nominal_params`` therefore save and
restore the full integration state around it, so poses placed before the call survive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.mujoco_textures import TEX_SIZE, material_name, texture_name, texture_pattern
from sim.types import Vector

NOMINAL_FIELDS = ("body_mass", "body_inertia", "body_pos", "body_quat", "geom_rgba", "geom_friction",
                  "geom_solref", "geom_solmix", "dof_damping", "dof_frictionloss", "actuator_gainprm",
                  "actuator_biasprm",
                  "light_pos", "light_dir", "light_diffuse", "light_ambient", "mat_rgba", "mat_texrepeat")
PLANE_TEXREPEAT = 2.0  # MuJoCo spans one texture image over 2 / texrepeat m of a texuniform plane (measured)
RESTITUTION_TIMECONST = 0.02  # s, solref time constant of a bouncy contact (MuJoCo's default)


def restitution_to_dampratio(e: float) -> float:
    """Return the MuJoCo solref damping ratio whose spring-damper contact bounces with restitution ``e``."""
    e = float(np.clip(e, 1e-4, 0.999))
    ln = math.log(e)
    return -ln / math.sqrt(math.pi**2 + ln * ln)


class MujocoParamsMixin:
    """Setters used by ``randomization.apply``; mixed into MujocoBackend."""

    texture_version: int = 0  # bumped whenever model.tex_data changes (renderers re-upload on change)
    # Provided by MujocoBackend (set in build):
    model: Any  # mujoco.MjModel
    data: Any  # mujoco.MjData
    _mj: Any  # the mujoco module
    _body_ids: dict[str, int]
    _arm_dadr: np.ndarray

    def _save_nominal(self) -> None:
        m, mj = self.model, self._mj
        self._nominal = {key: getattr(m, key).copy() for key in NOMINAL_FIELDS}
        self._nominal["gravity"] = m.opt.gravity.copy()
        self._tex_slots: dict[str, tuple[int, int, slice]] = {}
        for target in ["floor", *self._body_ids]:
            tid = mj.mj_name2id(m, mj.mjtObj.mjOBJ_TEXTURE, texture_name(target))
            if tid >= 0:
                mid = mj.mj_name2id(m, mj.mjtObj.mjOBJ_MATERIAL, material_name(target))
                adr = int(m.tex_adr[tid])
                self._tex_slots[target] = (tid, mid, slice(adr, adr + TEX_SIZE * TEX_SIZE * 3))
        self._tex_nominal = {t: m.tex_data[s].copy() for t, (_, _, s) in self._tex_slots.items()}
        self._tex_dirty: set[str] = set()
        self.texture_version = 0

    def _keep_state_through_setconst(self) -> None:
        mj, m, d = self._mj, self.model, self.data
        kind = mj.mjtState.mjSTATE_INTEGRATION
        state = np.empty(mj.mj_stateSize(m, kind))
        mj.mj_getState(m, d, state, kind)
        mj.mj_setConst(m, d)
        mj.mj_setState(m, d, state, kind)
        mj.mj_forward(m, d)

    def restore_nominal_params(self) -> None:
        """Put every randomizable model parameter back to its compiled value (the state is kept)."""
        m = self.model
        for key, value in self._nominal.items():
            if key == "gravity":
                m.opt.gravity[:] = value
            else:
                getattr(m, key)[:] = value
        if self._tex_dirty:
            for target in self._tex_dirty:
                m.tex_data[self._tex_slots[target][2]] = self._tex_nominal[target]
            self._tex_dirty.clear()
            self.texture_version += 1
        self._keep_state_through_setconst()

    def _body_geoms(self, name: str) -> np.ndarray:
        if name == "floor":
            return np.array([self._mj.mj_name2id(self.model, self._mj.mjtObj.mjOBJ_GEOM, "floor")])
        return np.flatnonzero(self.model.geom_bodyid == self._body_ids[name])

    def set_object_rgba(self, name: str, rgba: Vector) -> None:
        """Set the colour of every geom of an object (or the floor)."""
        rgba = np.asarray(rgba, float)
        self.model.geom_rgba[self._body_geoms(name)] = rgba
        if name in self._tex_slots:  # keep the material's colour equal (used when rgba is MuJoCo's default)
            self.model.mat_rgba[self._tex_slots[name][1]] = rgba

    def set_texture(self, name: str, tex: Mapping[str, Any]) -> None:
        """Paint a procedural texture ``{kind, rgb1, rgb2, repeat}`` on an object or the floor.

        The texture's colours replace the object's rgb (alpha kept). Targets without a texture slot
        (meshes, URDFs) get the pattern's mean colour instead.
        """
        m = self.model
        slot = self._tex_slots.get(name)
        geoms = self._body_geoms(name)
        alpha = float(m.geom_rgba[geoms[0], 3]) if len(geoms) else 1.0
        if slot is None:
            mean = [(a + b) / 2 for a, b in zip(tex["rgb1"], tex["rgb2"], strict=True)]
            self.set_object_rgba(name, [*mean, alpha])
            return
        tid, mid, sl = slot
        m.tex_data[sl] = texture_pattern(tex, TEX_SIZE).reshape(-1)
        rep = float(tex.get("repeat", 1.0)) * (PLANE_TEXREPEAT if m.mat_texuniform[mid] else 1.0)
        m.mat_texrepeat[mid] = [rep, rep]
        m.geom_rgba[geoms] = [1.0, 1.0, 1.0, alpha]
        m.mat_rgba[mid] = [1.0, 1.0, 1.0, alpha]
        self._tex_dirty.add(name)
        self.texture_version += 1

    def texture_ids(self) -> list[int]:
        """Return the ids of the procedural textures (what a renderer re-uploads on a version change)."""
        return [slot[0] for slot in self._tex_slots.values()]

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
        self.model.geom_solref[g] = [RESTITUTION_TIMECONST, restitution_to_dampratio(restitution)]
        self.model.geom_solmix[g] = 1e3

    def set_joint_damping(self, damping: float | Vector) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values, N m s / rad)."""
        self.model.dof_damping[self._arm_dadr] = np.broadcast_to(np.asarray(damping, float), (7,))

    def joint_damping(self) -> np.ndarray:
        """Return the damping of the 7 arm joints from the model."""
        return self.model.dof_damping[self._arm_dadr].copy()

    def set_gravity(self, gravity: Vector) -> None:
        """Set the gravity vector (m/s^2)."""
        self.model.opt.gravity[:] = np.asarray(gravity, float)

    def set_gain_scale(self, scale: float) -> None:
        """Scale the arm position gains (kp and kv) by ``scale`` relative to the scene's values."""
        n = self._nominal
        self.model.actuator_gainprm[:7, 0] = n["actuator_gainprm"][:7, 0] * scale
        self.model.actuator_biasprm[:7, 1:3] = n["actuator_biasprm"][:7, 1:3] * scale

    def set_light(
        self,
        name: str,
        pos: Vector | None = None,
        direction: Vector | None = None,
        diffuse: Vector | None = None,
        ambient: Vector | None = None,
    ) -> None:
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
        """Recompute model constants and kinematics after a batch of setters (the state is kept)."""
        self._keep_state_through_setconst()
