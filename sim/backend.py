"""The small engine protocol every backend implements, plus the factory.

A backend is a compiler from ``SceneSpec`` (+ optional sampled parameters) to a live engine world and a
thin runtime around it. Engine handles are per instance; nothing is global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from sim.errors import BackendError

if TYPE_CHECKING:
    from scenes.spec import SceneSpec

BACKENDS = ("mujoco", "pybullet")

ARM_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")
EE_LINK = "panda_grasptarget"
HAND_LINK = "panda_hand"
ROBOT_LINKS = (
    *(f"panda_link{i}" for i in range(0, 9)),
    "panda_hand",
    "panda_leftfinger",
    "panda_rightfinger",
    "panda_grasptarget",
)


@dataclass(frozen=True)
class Contact:
    """One contact between two named bodies (world frame)."""

    body_a: str
    body_b: str
    pos: tuple[float, float, float]
    normal_force: float


@dataclass(frozen=True)
class WorldInfo:
    """What a compiled world contains (for `robosynth validate`)."""

    backend: str
    engine_version: str
    bodies: tuple[str, ...]
    joints: tuple[str, ...]
    actuators: tuple[str, ...]
    cameras: tuple[str, ...]
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A live world on one engine. All poses are world frame; quaternions (w, x, y, z)."""

    name: str

    def build(self, spec: SceneSpec) -> None:
        """Compile ``spec`` into a fresh engine world (replacing any previous one)."""

    def reset(self) -> None:
        """Put the world back in the spec's initial state (bodies, joints, targets, time 0)."""

    def step(self, n: int = 1) -> None:
        """Advance the physics by ``n`` timesteps; raise PhysicsError on NaN/inf or engine warnings."""

    def get_state(self, exact: bool = True) -> np.ndarray:
        """Return the full state (float64) that ``set_state`` restores exactly.

        ``exact=False`` may skip engine-side snapshots (PyBullet) when the state is only logged.
        """

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state returned by ``get_state`` so that continuing is bit-identical."""

    def body_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (pos (3,), quat wxyz (4,)) of the named body or robot link."""

    def set_body_pose(self, name: str, pos: np.ndarray, quat: np.ndarray) -> None:
        """Teleport a free or fixed object (zero velocity)."""

    def joint_positions(self) -> np.ndarray:
        """Return the 9 robot joint positions (7 arm + 2 fingers)."""

    def joint_velocities(self) -> np.ndarray:
        """Return the 9 robot joint velocities."""

    def set_joint_positions(self, q: np.ndarray) -> None:
        """Teleport the 9 robot joints to ``q`` (zero velocity) and set matching targets."""

    def set_joint_targets(self, q_arm: np.ndarray, finger: float) -> None:
        """Set position-control targets: 7 arm joints (rad) and one finger opening (m, each finger)."""

    def contacts(self) -> list[Contact]:
        """Return the current contacts between named bodies."""

    def info(self) -> WorldInfo:
        """Describe the compiled world."""

    def close(self) -> None:
        """Release the engine handle."""


def make_backend(name: str) -> Backend:
    """Return a new, unbuilt backend instance by name (``mujoco`` or ``pybullet``)."""
    if name == "mujoco":
        from sim.mujoco_backend import MujocoBackend

        return MujocoBackend()
    if name == "pybullet":
        from sim.pybullet_backend import PybulletBackend

        return PybulletBackend()
    raise BackendError(f"unknown backend '{name}' (choose from: {', '.join(BACKENDS)})")
