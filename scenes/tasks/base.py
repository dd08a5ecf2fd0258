"""The task protocol and observation helpers shared by every task."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from sim.backend import EE_LINK, Backend

REWARD_TYPES = ("dense", "sparse")


def reward_type(spec) -> str:
    """Return the task parameter ``reward_type`` ("dense", the default, or "sparse"); SceneError otherwise.

    Every task shares the convention of panda-gym: sparse = 0 on success, -1 otherwise; dense = minus a sum of
    distances (metres) so that it is <= 0, slopes everywhere in the workspace, and ending the episode on success
    never costs reward.
    """
    from sim.errors import SceneError

    value = spec.task.params.get("reward_type", "dense")
    if value not in REWARD_TYPES:
        raise SceneError(f"task.params.reward_type: must be 'dense' or 'sparse', got {value!r}")
    return value


def sparse_reward(success: bool) -> float:
    """Return panda-gym's sparse reward: 0.0 on success, -1.0 otherwise."""
    return 0.0 if success else -1.0


def norm(v: np.ndarray) -> float:
    """Return the Euclidean norm of a float64 vector: ``np.linalg.norm``'s value (it computes sqrt(v . v) too)
    at a fifth of its call cost, for the per-step success and reward terms."""
    return math.sqrt(v.dot(v))


def quat_yaw(q: np.ndarray) -> float:
    """Return the yaw (rotation about world z) of quaternion (w, x, y, z)."""
    w, x, y, z = q
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def servo_action(ee: np.ndarray, goal: np.ndarray, yaw_err: float, grip: float, dpos: float, dyaw: float,
                 gain: float = 1.0, yaw_gain: float = 1.0, yaw_limit: float = 1.0) -> np.ndarray:
    """Return the ee_delta action of a scripted expert's servo step: ``gain`` times the position error and
    ``yaw_gain`` times the yaw error, in units of one step's reach (``dpos`` m, ``dyaw`` rad), clipped to [-1, 1]
    (the yaw to +-``yaw_limit``), and the gripper command ``grip``."""
    d = np.clip(gain * (goal - ee) / dpos, -1.0, 1.0)
    y = float(np.clip(yaw_gain * yaw_err / dyaw, -yaw_limit, yaw_limit))
    return np.array([*d, y, grip], dtype=np.float32)


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
