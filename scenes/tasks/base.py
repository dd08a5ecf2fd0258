"""The task protocol and observation helpers shared by every task."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sim.backend import EE_LINK, Backend


def quat_yaw(q: np.ndarray) -> float:
    """Return the yaw (rotation about world z) of quaternion (w, x, y, z)."""
    w, x, y, z = q
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def robot_obs(backend: Backend) -> dict[str, np.ndarray]:
    """Return the robot low-dim observations (robomimic key names), float32."""
    q = backend.joint_positions()
    pos, quat = backend.body_pose(EE_LINK)
    return {
        "robot0_joint_pos": q[:7].astype(np.float32),
        "robot0_eef_pos": pos.astype(np.float32),
        "robot0_eef_quat": quat.astype(np.float32),
        "robot0_gripper_qpos": q[7:9].astype(np.float32),
    }


class Task(Protocol):
    """Reward, success, placement and expert of one task."""

    name: str

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Place the task's objects for a new episode (uses only ``rng`` for randomness)."""

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return the task's object observation vector (float32, 1-D)."""

    def reward(self, backend: Backend) -> float:
        """Return the reward of the current state."""

    def success(self, backend: Backend) -> bool:
        """Return whether the task is solved in the current state."""

    def expert(self) -> Expert:
        """Return a fresh scripted expert for this task."""


class Expert(Protocol):
    """A scripted policy that reads only observations."""

    def reset(self) -> None:
        """Forget any internal phase."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return an action for the observation dict."""
