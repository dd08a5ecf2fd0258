"""Names and value types shared by the backend protocol (sim.backend) and the engines.

This module imports no engine and no other ``sim`` module, so both ``sim.backend`` and the engine modules
(``sim.mujoco_backend``, ``sim.pybullet_backend``) can import it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

# A small float vector (position, quaternion, colour, gravity, joint values) as the engines accept it.
Vector: TypeAlias = Sequence[float] | np.ndarray

ARM_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")
EE_LINK = "panda_grasptarget"
# ``Backend.build(..., visual_detail=NOTHING_RENDERED)``: no camera will draw this world (a state-only env or
# recording), so an engine may leave the robot's visual meshes out (PyBullet does: they are most of a reload).
NOTHING_RENDERED = 0.0
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
