"""In-place parameter setters for the PyBullet backend (domain randomization applies through these).

Every setter writes an absolute value; ``restore_nominal_params`` puts back the values read from the world
right after it was loaded (``_save_nominal``), so nothing depends on earlier episodes.
Lights are not part of a Bullet world; the backend keeps them for the TinyRenderer call.
Restitution: Bullet multiplies the two bodies' coefficients, so fixed bodies (table, floor) are built with
restitution 1 and an object's coefficient is then its contact's coefficient against them.
Joint damping: the Panda URDF has none (PyBullet's nominal is 0); ``set_joint_damping`` writes absolute
values, so the same randomized damping means the same thing on both engines.
"""

from __future__ import annotations

import numpy as np


class PybulletParamsMixin:
    """Setters used by ``randomization.apply``; mixed into PybulletBackend."""

    def _save_nominal(self) -> None:
        c = self.client
        self._nominal: dict[str, dict] = {"dynamics": {}, "rgba": {}}
        for name in [o.name for o in self.spec.objects] + (["floor"] if self.spec.floor else []):
            uid, link = self._bodies[name]
            info = c.getDynamicsInfo(uid, link)
            self._nominal["dynamics"][name] = {"mass": info[0], "lateralFriction": info[1], "restitution": info[5]}
            shapes = [s for s in c.getVisualShapeData(uid) if s[1] == link]
            self._nominal["rgba"][name] = list(shapes[0][7]) if shapes else None
        self._nominal["gravity"] = list(self.spec.physics.gravity)
        self._nominal["joint_damping"] = [c.getJointInfo(self.robot, j)[6] for j in self._arm]  # the URDF's
        self._arm_damping = np.asarray(self._nominal["joint_damping"], float)
        self.lights = {
            light.name: {"pos": list(light.pos), "dir": list(light.dir), "diffuse": list(light.diffuse),
                         "ambient": list(light.ambient)}
            for light in self.spec.lights
        }
        self.gain_scale = 1.0

    def restore_nominal_params(self) -> None:
        """Put every randomizable parameter back to the values the world had when it was loaded."""
        c = self.client
        for name, dyn in self._nominal["dynamics"].items():
            uid, link = self._bodies[name]
            c.changeDynamics(uid, link, **dyn)
            rgba = self._nominal["rgba"][name]
            if rgba is not None:
                c.changeVisualShape(uid, link, rgbaColor=rgba)
        self.set_joint_damping(self._nominal["joint_damping"])
        c.setGravity(*self._nominal["gravity"])
        for light in self.spec.lights:
            self.lights[light.name] = {"pos": list(light.pos), "dir": list(light.dir),
                                       "diffuse": list(light.diffuse), "ambient": list(light.ambient)}
        self.gain_scale = 1.0
        self._apply_motors()

    def set_object_rgba(self, name: str, rgba) -> None:
        """Set the colour of an object (or the floor)."""
        uid, link = self._bodies[name]
        self.client.changeVisualShape(uid, link, rgbaColor=[float(v) for v in rgba])

    def set_object_mass(self, name: str, mass: float) -> None:
        """Set an object's mass (Bullet rescales the inertia from the collision shape)."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, mass=float(mass))

    def set_object_friction(self, name: str, friction: float) -> None:
        """Set an object's lateral friction coefficient."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, lateralFriction=float(friction))

    def set_object_restitution(self, name: str, restitution: float) -> None:
        """Set an object's restitution coefficient (a contact's restitution is the product of the pair's)."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, restitution=float(restitution))

    def set_joint_damping(self, damping) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values, N m s / rad)."""
        values = np.broadcast_to(np.asarray(damping, float), (7,))
        for j, d in zip(self._arm, values, strict=True):
            self.client.changeDynamics(self.robot, j, jointDamping=float(d))
        self._arm_damping = values.copy()

    def joint_damping(self) -> np.ndarray:
        """Return the damping last written to the 7 arm joints (Bullet's getJointInfo keeps the URDF value)."""
        return self._arm_damping.copy()

    def set_gravity(self, gravity) -> None:
        """Set the gravity vector (m/s^2)."""
        self.client.setGravity(*[float(v) for v in gravity])

    def set_gain_scale(self, scale: float) -> None:
        """Scale the arm motors' position gain relative to the default."""
        self.gain_scale = float(scale)
        self._apply_motors()

    def set_light(self, name: str, pos=None, direction=None, diffuse=None, ambient=None) -> None:
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
