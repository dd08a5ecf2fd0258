"""Engine-independent bookkeeping of articulated objects' joints (names, initial positions), for both backends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.assets import resolve_asset
from sim.errors import BackendError
from sim.urdf_articulated import ArticulatedUrdf, parse_articulated_urdf

if TYPE_CHECKING:
    from scenes.spec import ObjectSpec, SceneSpec


@dataclass(frozen=True)
class ObjectJoints:
    """The movable joints of one articulated object: URDF names, initial positions, nominal dynamics."""

    names: tuple[str, ...]
    initial: np.ndarray
    damping: np.ndarray
    friction: np.ndarray


def load_urdf(o: ObjectSpec, scene_dir: Path | None) -> ArticulatedUrdf:
    """Return the parsed URDF of an articulated scene object."""
    return parse_articulated_urdf(str(resolve_asset(o.asset or "", scene_dir)))


def articulated_objects(spec: SceneSpec, scene_dir: Path | None) -> dict[str, ObjectJoints]:
    """Return {object name: its movable joints} for every ``shape: articulated`` object of the scene.

    A joint starts at the object's ``joint_positions`` value when the scene gives one, else at 0 clipped into the
    joint's limits.
    """
    out: dict[str, ObjectJoints] = {}
    for o in spec.objects:
        if o.shape != "articulated":
            continue
        joints = load_urdf(o, scene_dir).movable_joints
        names = tuple(j.name for j in joints)
        unknown = sorted(set(o.joint_positions) - set(names))
        if unknown:
            raise BackendError(f"objects '{o.name}': joint_positions names unknown joint(s) {', '.join(unknown)} "
                               f"(joints: {', '.join(names) or 'none'})")
        initial = [o.joint_positions.get(j.name, float(np.clip(0.0, j.lower, j.upper)) if j.limited else 0.0)
                   for j in joints]
        out[o.name] = ObjectJoints(names, np.array(initial, float), np.array([j.damping for j in joints], float),
                                   np.array([j.friction for j in joints], float))
    return out


def check_dynamics(name: str, n: int, damping: object, friction: object) -> tuple[np.ndarray, np.ndarray]:
    """Return damping and friction broadcast to ``n`` joints; ValueError if negative or not finite."""
    d = np.broadcast_to(np.asarray(damping, float), (n,)).copy()
    f = np.broadcast_to(np.asarray(friction, float), (n,)).copy()
    if not (np.isfinite(d).all() and np.isfinite(f).all() and (d >= 0).all() and (f >= 0).all()):
        raise ValueError(f"object '{name}': joint damping and friction must be finite and >= 0")
    return d, f
