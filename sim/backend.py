"""The engine protocol every backend implements, plus the backend registry and factory.

A backend is a compiler from ``SceneSpec`` (+ optional sampled parameters) to a live engine world and a
thin runtime around it. Engine handles are per instance; nothing is global.

The registry is a table of lazy entry points (``BACKEND_ENTRY_POINTS``) resolved by ``make_backend``: this
module imports no engine module (importing it never starts an engine), and the engine modules take the
shared names and types from ``sim.types``, importing this module only for type checking, so there is no
import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from sim.backend_names import BACKEND_ENTRY_POINTS, BACKEND_NAMES, BACKENDS
from sim.errors import BackendError
from sim.types import (
    ARM_JOINTS,
    EE_LINK,
    FINGER_JOINTS,
    HAND_LINK,
    NOTHING_RENDERED,
    ROBOT_LINKS,
    Contact,
    Vector,
    WorldInfo,
)

if TYPE_CHECKING:
    from scenes.spec import SceneSpec
    from sim.segmentation import Instance

__all__ = [
    "ARM_JOINTS", "BACKENDS", "BACKEND_ENTRY_POINTS", "BACKEND_NAMES", "EE_LINK", "FINGER_JOINTS", "HAND_LINK",
    "NOTHING_RENDERED",
    "ROBOT_LINKS", "Backend", "Contact", "Vector", "WorldInfo", "make_backend",
]



@runtime_checkable
class Backend(Protocol):
    """A live world on one engine. All poses are world frame; quaternions (w, x, y, z).

    Everything code outside ``sim`` calls on a world is declared here, and both engines implement all of
    it with these signatures (``sim/mujoco_backend.py``, ``sim/pybullet_backend.py``; mypy checks each
    engine against this protocol). Engine handles are deliberately not part of the contract: the
    MuJoCo model/data and texture hooks (``MujocoBackend.model``, ``.data``, ``.texture_version``,
    ``.texture_ids()``, ``.instance_of_geom()``) and the PyBullet client, lights and segmentation table
    (``PybulletBackend.client``, ``.lights``, ``.instance_of()``) are used only by the engine's own
    renderer, which narrows to the concrete class after checking ``name`` (tests also read engine internals).
    """

    name: str

    # -- lifecycle -----------------------------------------------------------------------------------
    def build(self, spec: SceneSpec, scene_dir: Path | None = None, visual_detail: float = 1.0) -> None:
        """Compile ``spec`` into a fresh engine world (replacing any previous one).

        Relative asset paths resolve against ``scene_dir`` first (see ``sim.assets``). ``visual_detail``
        < 1 draws the robot's visual meshes decimated to that fraction of their faces (``sim.mesh_lod`` on
        MuJoCo; on PyBullet colour-baked, ``sim.pybullet_lod``, and only at ``fast``'s 0.1 or below); physics is
        the same for both. ``NOTHING_RENDERED`` (0) promises that no camera will draw the world: PyBullet then
        loads the robot without its visual meshes (a reset reloads it 5x faster); MuJoCo builds it as at 1.
        """

    def reset(self) -> None:
        """Put the world back in the spec's initial state (bodies, joints, targets, time 0)."""

    def step(self, n: int = 1) -> None:
        """Advance the physics by ``n`` timesteps; raise PhysicsError on NaN/inf or engine warnings."""

    def close(self) -> None:
        """Release the engine handle."""

    # -- state ---------------------------------------------------------------------------------------
    def get_state(self, exact: bool = True) -> np.ndarray:
        """Return the full state (float64) that ``set_state`` restores exactly.

        ``exact=False`` may skip engine-side snapshots (PyBullet) when the state is only logged.
        """

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state returned by ``get_state`` so that continuing is bit-identical."""

    # -- bodies and robot ----------------------------------------------------------------------------
    def body_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (pos (3,), quat wxyz (4,)) of the named body or robot link."""

    def set_body_pose(self, name: str, pos: Vector, quat: Vector) -> None:
        """Teleport a free or fixed object (zero velocity)."""

    def joint_positions(self) -> np.ndarray:
        """Return the 9 robot joint positions (7 arm + 2 fingers)."""

    def joint_velocities(self) -> np.ndarray:
        """Return the 9 robot joint velocities."""

    def set_joint_positions(self, q: Vector) -> None:
        """Teleport the 9 robot joints to ``q`` (zero velocity) and set matching targets."""

    def set_joint_targets(self, q_arm: Vector, finger: float) -> None:
        """Set position-control targets: 7 arm joints (rad) and one finger opening (m, each finger)."""

    def contacts(self) -> list[Contact]:
        """Return the current contacts between named bodies."""

    def touching(self, body: str) -> set[str]:
        """Return the names of the bodies in contact with ``body``: the other sides of the ``contacts()`` that
        involve it, without computing forces. A name ending in "/" (``"cabinet/"``) stands for every body whose
        name starts with it, i.e. the moving links of an articulated object."""

    # -- articulated objects (``shape: articulated``; joints named as in their URDF) ---------------------
    def object_joint_names(self, name: str) -> tuple[str, ...]:
        """Return the movable joints of an articulated object (URDF names, file order); () for other objects."""

    def object_joint_state(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, velocities) of an articulated object's movable joints (m or rad)."""

    def set_object_joint_positions(self, name: str, q: Vector) -> None:
        """Teleport an articulated object's movable joints to ``q`` with zero velocity."""

    def set_object_joint_dynamics(self, name: str, damping: float | Vector, friction: float | Vector) -> None:
        """Set the damping (N s/m or N m s/rad) and friction (N or N m) of an object's movable joints
        (absolute values; ``restore_nominal_params`` puts back the URDF's)."""

    def object_joint_dynamics(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (damping, friction) of an articulated object's movable joints."""

    # -- description ---------------------------------------------------------------------------------
    @property
    def engine_version(self) -> str:
        """Return the engine's version string (recorded with every episode)."""

    def info(self) -> WorldInfo:
        """Describe the compiled world."""

    def instances(self) -> list[Instance]:
        """Return the segmentation instance table of this world (same ids on every engine)."""

    def model_xml(self) -> str:
        """Return the compiled world as model text (MJCF on MuJoCo; empty where the engine has none)."""

    # -- domain randomization (randomization.apply) --------------------------------------------------
    # Every setter writes an absolute value, so the result never depends on earlier episodes.
    def restore_nominal_params(self) -> None:
        """Put every randomizable parameter back to its value in the built world (the state is kept)."""

    def finalize_params(self) -> None:
        """Recompute derived engine quantities after a batch of setters (the state is kept)."""

    def set_object_rgba(self, name: str, rgba: Vector) -> None:
        """Set the colour (RGBA in [0, 1]) of an object or the floor."""

    def set_texture(self, name: str, tex: Mapping[str, Any]) -> None:
        """Paint a procedural texture ``{kind, rgb1, rgb2, repeat}`` on an object or the floor (alpha kept).

        Where the engine or the target has no texture slot the pattern's mean colour is painted instead.
        """

    def set_object_mass(self, name: str, mass: float) -> None:
        """Set an object's mass (kg); call ``finalize_params`` after the batch."""

    def set_object_friction(self, name: str, friction: float) -> None:
        """Set an object's sliding friction coefficient."""

    def set_object_restitution(self, name: str, restitution: float) -> None:
        """Set an object's restitution coefficient (bounciness against fixed bodies)."""

    def set_joint_damping(self, damping: float | Vector) -> None:
        """Set the damping of the 7 arm joints (scalar or 7 values, N m s / rad)."""

    def joint_damping(self) -> np.ndarray:
        """Return the damping of the 7 arm joints (N m s / rad)."""

    def set_gravity(self, gravity: Vector) -> None:
        """Set the gravity vector (m/s^2)."""

    def set_gain_scale(self, scale: float) -> None:
        """Scale the arm's position-control gains relative to the scene's values."""

    def set_light(
        self,
        name: str,
        pos: Vector | None = None,
        direction: Vector | None = None,
        diffuse: Vector | None = None,
        ambient: Vector | None = None,
    ) -> None:
        """Set a scene light's position, direction and colours (values not given are left unchanged)."""


def make_backend(name: str) -> Backend:
    """Return a new, unbuilt backend instance by name (one of ``BACKEND_NAMES``)."""
    entry = BACKEND_ENTRY_POINTS.get(name)
    if entry is None:
        raise BackendError(f"unknown backend '{name}' (choose from: {', '.join(BACKEND_NAMES)})")
    module_name, _, class_name = entry.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: Backend = cls()
    return backend
