"""In-place parameter setters for the PyBullet backend (domain randomization applies through these).

Lights are not part of a Bullet world; the backend keeps them for the TinyRenderer call.
Restitution: Bullet multiplies the two bodies' coefficients, so fixed bodies (table, floor) are built with
restitution 1 and an object's coefficient is then the pair's coefficient.
"""

from __future__ import annotations

import numpy as np


class PybulletParamsMixin:
    """Setters used by ``randomization.apply``; mixed into PybulletBackend."""

    def _save_nominal(self) -> None:
        self._nominal = {"gain_scale": 1.0}
        self.lights = {
            light.name: {"pos": list(light.pos), "dir": list(light.dir), "diffuse": list(light.diffuse),
                         "ambient": list(light.ambient)}
            for light in self.spec.lights
        }
        self.gain_scale = 1.0

    def restore_nominal_params(self) -> None:
        """Put every randomizable parameter back to the scene's values."""
        c = self.client
        for o in self.spec.objects:
            uid, _ = self._bodies[o.name]
            c.changeVisualShape(uid, -1, rgbaColor=list(o.rgba))
            if not o.fixed:
                c.changeDynamics(uid, -1, mass=o.mass, restitution=0.0)
            c.changeDynamics(uid, -1, lateralFriction=o.friction)
        if self.spec.floor:
            c.changeVisualShape(self._floor, -1, rgbaColor=list(self.spec.floor_rgba))
        self.set_joint_damping(0.0)
        c.setGravity(*self.spec.physics.gravity)
        self._save_nominal()

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
        """Set an object's restitution (fixed bodies have 1, so this is the pair's coefficient)."""
        uid, link = self._bodies[name]
        self.client.changeDynamics(uid, link, restitution=float(restitution))

    def set_joint_damping(self, damping) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values)."""
        values = np.broadcast_to(np.asarray(damping, float), (7,))
        for j, d in zip(self._arm, values, strict=True):
            self.client.changeDynamics(self.robot, j, jointDamping=float(d))

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

    def finalize_params(self) -> None:
        """Nothing to recompute in Bullet (kept for protocol symmetry)."""
