"""In-place parameter setters for the PyBullet backend (domain randomization applies through these).

Every setter writes an absolute value; ``restore_nominal_params`` puts back the values read from the world
right after it was loaded (``_save_nominal``), so nothing depends on earlier episodes.
Lights are not part of a Bullet world; the backend keeps them for the TinyRenderer call.
Restitution: Bullet multiplies the two bodies' coefficients, so fixed bodies (table, floor) are built with
restitution 1 and an object's coefficient is then its contact's coefficient against them.
Joint damping: the Panda URDF has none (PyBullet's nominal is 0); ``set_joint_damping`` writes absolute
values, so the same randomized damping means the same thing on both engines.
Textures: ``set_texture`` loads the pattern as a PNG (``sim.pybullet_textures``, the same pixels as MuJoCo's) and
sets it on the target's visual shapes; ``restore_nominal_params`` removes it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scenes.spec import SceneSpec
from sim.pybullet_textures import texture_png, tiles_for
from sim.types import Vector


@dataclass
class _Nominal:
    """The randomizable values of a freshly loaded world (what ``restore_nominal_params`` writes back)."""

    dynamics: dict[str, dict[str, Any]]  # name -> changeDynamics keyword arguments
    rgba: dict[str, list[float] | None]  # name -> visual colour (None: no visual shape on that link)
    alpha: dict[str, float]  # name -> the scene's alpha (kept by set_texture)
    gravity: list[float]
    joint_damping: list[float]  # the URDF's, of the 7 arm joints


def _scene_lights(spec: SceneSpec) -> dict[str, dict[str, list[float]]]:
    return {
        light.name: {"pos": list(light.pos), "dir": list(light.dir), "diffuse": list(light.diffuse),
                     "ambient": list(light.ambient)}
        for light in spec.lights
    }


class PybulletParamsMixin:
    """Setters used by ``randomization.apply``; mixed into PybulletBackend."""

    # Provided by PybulletBackend (set in build):
    spec: SceneSpec
    client: Any  # pybullet_utils.bullet_client.BulletClient
    robot: int
    _bodies: dict[str, tuple[int, int]]
    _arm: list[int]

    if TYPE_CHECKING:

        def _apply_motors(self) -> None: ...

        def _restore_joint_dynamics(self) -> None: ...

    def _save_nominal(self) -> None:
        c = self.client
        spec = self.spec
        dynamics: dict[str, dict[str, Any]] = {}
        rgba: dict[str, list[float] | None] = {}
        alpha = {o.name: float(o.rgba[3]) for o in spec.objects}
        if spec.floor:
            alpha["floor"] = float(spec.floor_rgba[3])
        for name in [o.name for o in spec.objects] + (["floor"] if spec.floor else []):
            uid, link = self._bodies[name]
            info = c.getDynamicsInfo(uid, link)
            dynamics[name] = {"mass": info[0], "lateralFriction": info[1], "restitution": info[5]}
            if info[0] > 0:  # Bullet recomputes the inertia of a new mass from the shape: keep the built one's
                dynamics[name]["localInertiaDiagonal"] = list(info[2])
            shapes = [s for s in c.getVisualShapeData(uid) if s[1] == link]
            rgba[name] = list(shapes[0][7]) if shapes else None
        joint_damping = [c.getJointInfo(self.robot, j)[6] for j in self._arm]  # the URDF's
        nominal = _Nominal(dynamics, rgba, alpha, list(spec.physics.gravity), joint_damping)
        self._nominal = nominal
        self._alpha = dict(nominal.alpha)
        self._arm_damping = np.asarray(nominal.joint_damping, float)
        self.lights = _scene_lights(spec)
        self.gain_scale = 1.0
        self._texture_ids: dict[Path, int] = {}
        self._textured: set[str] = set()

    def restore_nominal_params(self) -> None:
        """Put every randomizable parameter back to the values the world had when it was loaded."""
        c = self.client
        nominal = self._nominal
        for name in self._textured:
            uid, link = self._bodies[name]
            c.changeVisualShape(uid, link, textureUniqueId=-1)
        self._textured.clear()
        for name, dyn in nominal.dynamics.items():
            uid, link = self._bodies[name]
            c.changeDynamics(uid, link, **dyn)
            rgba = nominal.rgba[name]
            if rgba is not None:
                c.changeVisualShape(uid, link, rgbaColor=rgba)
        self._alpha = dict(nominal.alpha)
        self.set_joint_damping(nominal.joint_damping)
        c.setGravity(*nominal.gravity)
        self.lights.update(_scene_lights(self.spec))
        self.gain_scale = 1.0
        self._restore_joint_dynamics()
        self._apply_motors()

    def set_object_rgba(self, name: str, rgba: Vector) -> None:
        """Set the colour of an object (or the floor)."""
        uid, link = self._bodies[name]
        self.client.changeVisualShape(uid, link, rgbaColor=[float(v) for v in rgba])
        self._alpha[name] = float(rgba[3])

    def set_texture(self, name: str, tex: Mapping[str, Any]) -> None:
        """Paint a texture ``{kind, rgb1, rgb2, repeat[, image]}`` on an object or the floor (its alpha kept)."""
        shape = "floor" if name == "floor" else self.spec.object(name).shape
        png = texture_png(tex, tiles_for(tex, shape))
        if png not in self._texture_ids:  # one load per client and image (reset reloads the world: cleared)
            self._texture_ids[png] = self.client.loadTexture(str(png))
        uid, link = self._bodies[name]
        self.client.changeVisualShape(uid, link, textureUniqueId=self._texture_ids[png],
                                      rgbaColor=[1.0, 1.0, 1.0, self._alpha.get(name, 1.0)])
        self._textured.add(name)

    def set_object_mass(self, name: str, mass: float) -> None:
        """Set an object's mass, scaling its built inertia by the same factor (as on MuJoCo)."""
        uid, link = self._bodies[name]
        nominal = self._nominal.dynamics[name]
        if nominal["mass"] > 0:
            ratio = float(mass) / float(nominal["mass"])
            inertia = [float(x) * ratio for x in nominal["localInertiaDiagonal"]]
            self.client.changeDynamics(uid, link, mass=float(mass), localInertiaDiagonal=inertia)
        else:
            self.client.changeDynamics(uid, link, mass=float(mass))

    def set_object_friction(self, name: str, friction: float) -> None:
        """Set an object's lateral friction coefficient."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, lateralFriction=float(friction))

    def set_object_restitution(self, name: str, restitution: float) -> None:
        """Set an object's restitution coefficient (a contact's restitution is the product of the pair's)."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, restitution=float(restitution))

    def set_joint_damping(self, damping: float | Vector) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values, N m s / rad)."""
        values = np.broadcast_to(np.asarray(damping, float), (7,))
        for j, d in zip(self._arm, values, strict=True):
            self.client.changeDynamics(self.robot, j, jointDamping=float(d))
        self._arm_damping = values.copy()

    def joint_damping(self) -> np.ndarray:
        """Return the damping last written to the 7 arm joints (Bullet's getJointInfo keeps the URDF value)."""
        return self._arm_damping.copy()

    def set_gravity(self, gravity: Vector) -> None:
        """Set the gravity vector (m/s^2)."""
        self.client.setGravity(*[float(v) for v in gravity])

    def set_gain_scale(self, scale: float) -> None:
        """Scale the arm motors' position gain relative to the default."""
        self.gain_scale = float(scale)
        self._apply_motors()

    def set_light(
        self,
        name: str,
        pos: Vector | None = None,
        direction: Vector | None = None,
        diffuse: Vector | None = None,
        ambient: Vector | None = None,
    ) -> None:
        """Set a light's parameters for the renderer (values not given are left unchanged)."""
        entry = self.lights[name]
        for key, value in (("pos", pos), ("dir", direction), ("diffuse", diffuse), ("ambient", ambient)):
            if value is not None:
                entry[key] = [float(v) for v in value]
        if direction is not None:
            d = np.asarray(entry["dir"], float)
            entry["dir"] = [float(v) for v in d / np.linalg.norm(d)]

    def finalize_params(self) -> None:
        """Nothing to recompute in Bullet (kept for protocol symmetry)."""
