"""Task ``reach``: bring the end effector (``panda_grasptarget``) to a target point above the table.

Observation ``object`` (6,): target position (3), target-minus-end-effector (3).
Success: the end effector is within ``success_threshold`` (2 cm) of the target.
Reward (task parameter ``reward_type``, default "dense"): dense = -d(ee, target) in metres (<= 0, -0.2 to
-0.4 at the start pose, > -0.02 on success; the slope is 1 everywhere, unlike a tanh that is flat beyond ~15 cm);
sparse = 0 on success, -1 otherwise (panda-gym's convention, for HER).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from scenes.spec import SceneSpec
from scenes.tasks.base import norm, reward_type, sparse_reward
from scenes.tasks.params import Length, ObjectName, ObjectNeed, Region3, RewardParams, parse_params
from scenes.tasks.registry import register_task
from sim.backend import EE_LINK, Backend


class ReachParams(RewardParams):
    """``task.params`` of reach (metres)."""

    target: ObjectName = Field("target", description="the fixed marker placed at the goal point")
    target_region: Region3 = ((0.35, -0.25, 0.45), (0.65, 0.25, 0.70))
    success_threshold: Length = Field(0.02, gt=0)


@register_task("reach", scene="reach", gym_id="robosynth/Reach-v0",
               description="bring the grasp point to a target point above the table")
class ReachTask:
    """Reward, success, placement and expert for reaching a point."""

    name = "reach"
    Params = ReachParams

    @staticmethod
    def required_objects(params: ReachParams) -> tuple[str, ...]:
        """Return the objects the task needs: the target."""
        return (params.target,)

    @staticmethod
    def object_needs(params: ReachParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (ObjectNeed("target", params.target, "the task places it in mid-air each episode", fixed=True),)

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = parse_params(spec, ReachParams)
        self.target = self.p["target"]

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Sample the target point in ``target_region`` (uses only ``rng``)."""
        lo, hi = np.asarray(self.p["target_region"], float)
        backend.set_body_pose(self.target, rng.uniform(lo, hi), np.array([1.0, 0.0, 0.0, 0.0]))

    def _distance(self, backend: Backend) -> float:
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        return float(norm(tp - ep))

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return target pos, target - eef (6,)."""
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([tp, tp - ep]).astype(np.float32)

    def success(self, backend: Backend) -> bool:
        """Return whether the end effector is within the threshold of the target."""
        return self._distance(backend) < self.p["success_threshold"]

    def reward(self, backend: Backend) -> float:
        """Return -distance (dense) or 0 on success / -1 otherwise (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self.success(backend))
        return -self._distance(backend)

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
