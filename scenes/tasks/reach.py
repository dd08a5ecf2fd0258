"""Task ``reach``: bring the end effector (``panda_grasptarget``) to a target point above the table.

Observation ``object`` (6,): target position (3), target-minus-end-effector (3).
Success: the end effector is within ``success_threshold`` (2 cm) of the target.
Reward (dense, in [0, 1]): 1 on success, else 1 - tanh(10 d(ee, target)), which is < 0.81 off success.
"""

from __future__ import annotations

import numpy as np

from scenes.spec import SceneSpec
from sim.backend import EE_LINK, Backend

DEFAULTS = {
    "target": "target",
    "target_region": [[0.35, -0.25, 0.45], [0.65, 0.25, 0.70]],
    "success_threshold": 0.02,
}


class ReachTask:
    """Reward, success, placement and expert for reaching a point."""

    name = "reach"

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.p = {**DEFAULTS, **spec.task.params}
        self.target = self.p["target"]

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Sample the target point in ``target_region`` (uses only ``rng``)."""
        lo, hi = np.asarray(self.p["target_region"], float)
        backend.set_body_pose(self.target, rng.uniform(lo, hi), np.array([1.0, 0.0, 0.0, 0.0]))

    def _distance(self, backend: Backend) -> float:
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        return float(np.linalg.norm(tp - ep))

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return target pos, target - eef (6,)."""
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([tp, tp - ep]).astype(np.float32)

    def success(self, backend: Backend) -> bool:
        """Return whether the end effector is within the threshold of the target."""
        return self._distance(backend) < self.p["success_threshold"]

    def reward(self, backend: Backend) -> float:
        """Return 1 on success, else 1 - tanh(10 * distance)."""
        if self.success(backend):
            return 1.0
        return float(1.0 - np.tanh(10.0 * self._distance(backend)))

    def expert(self) -> ReachExpert:
        """Return a fresh scripted expert."""
        return ReachExpert(self.spec)


class ReachExpert:
    """Scripted reach from observations only: proportional steps toward the target, gripper open."""

    def __init__(self, spec: SceneSpec, gain: float = 0.8):
        self.dpos = spec.robot.controller.max_pos_delta
        self.gain = gain

    def reset(self) -> None:
        """Nothing to forget: the reach expert has no phases."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        delta = obs["object"][3:6].astype(float)
        d = np.clip(self.gain * delta / self.dpos, -1.0, 1.0)
        return np.array([*d, 0.0, -1.0], dtype=np.float32)
