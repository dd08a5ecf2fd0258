"""A task of your own: press a button on the table with the closed gripper.

robosynth needs a class with ``reset``, ``object_obs``, ``reward``, ``success`` and ``expert`` (see
docs/tasks.md, "Your own task"); ``Params`` (typed ``task.params``) and ``object_needs`` (what the task relies
on in the scene's objects) are optional and make bad scenes fail at validation instead of mid-run.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from scenes.tasks import register_task
from scenes.tasks.params import Length, ObjectName, ObjectNeed, Region2, RewardParams
from sim.backend import EE_LINK

UP = np.array([1.0, 0.0, 0.0, 0.0])


class PressButtonParams(RewardParams):
    """``task.params`` of press_button (metres); ``reward_type`` (dense | sparse) comes with RewardParams."""

    button: ObjectName = "button"
    button_region: Region2 = ((0.45, -0.15), (0.60, 0.15))
    success_threshold: Length = Field(0.015, gt=0)


@register_task("press_button", description="press a button on the table with the closed gripper")
class PressButton:
    """The button moves to a random spot each episode; success when the grasp point touches its top."""

    name = "press_button"
    Params = PressButtonParams

    @staticmethod
    def object_needs(params: PressButtonParams) -> tuple[ObjectNeed, ...]:
        """The button must be fixed: the task places it, and pressing must not push it away."""
        return (ObjectNeed("button", params.button, "the task places it each episode", fixed=True),)

    def __init__(self, spec):
        self.spec = spec
        self.p = PressButtonParams.model_validate(spec.task.params)
        button = spec.object(self.p.button)
        self.z = button.pose.pos[2]
        self.half_height = button.size[2] / 2

    def reset(self, backend, rng: np.random.Generator) -> None:
        """Place the button in ``button_region`` (only ``rng`` is used, so episodes are reproducible)."""
        lo, hi = np.asarray(self.p.button_region, float)
        backend.set_body_pose(self.p.button, np.array([*rng.uniform(lo, hi), self.z]), UP)

    def _press_point(self, backend) -> np.ndarray:
        pos, _ = backend.body_pose(self.p.button)
        return pos + np.array([0.0, 0.0, self.half_height])

    def object_obs(self, backend) -> np.ndarray:
        """Return the button's top centre (3) and top centre minus grasp point (3)."""
        top = self._press_point(backend)
        ee, _ = backend.body_pose(EE_LINK)
        return np.concatenate([top, top - ee]).astype(np.float32)

    def success(self, backend) -> bool:
        """Return whether the grasp point is within the threshold of the button's top centre."""
        ee, _ = backend.body_pose(EE_LINK)
        return bool(np.linalg.norm(self._press_point(backend) - ee) < self.p.success_threshold)

    def reward(self, backend) -> float:
        """Dense: minus the distance (m) to the button top; sparse: 0 on success, -1 otherwise."""
        if self.p.reward_type == "sparse":
            return 0.0 if self.success(backend) else -1.0
        ee, _ = backend.body_pose(EE_LINK)
        return -float(np.linalg.norm(self._press_point(backend) - ee))

    def expert(self) -> PressButtonExpert:
        """Return a fresh scripted expert."""
        return PressButtonExpert(self.spec.robot.controller.max_pos_delta)


class PressButtonExpert:
    """Move above the button, then straight down onto it, gripper closed; reads observations only."""

    def __init__(self, max_pos_delta: float, gain: float = 0.6):
        self.dpos, self.gain = max_pos_delta, gain

    def reset(self) -> None:
        """No phases to forget: the next action depends on the observation alone."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return an ee_delta action [dx, dy, dz, dyaw, gripper]."""
        delta = obs["object"][3:6].astype(float)
        if np.linalg.norm(delta[:2]) > 0.01:  # not above it yet: stay 5 cm over the button
            delta[2] += 0.05
        move = np.clip(self.gain * delta / self.dpos, -1.0, 1.0)
        return np.array([*move, 0.0, 1.0], dtype=np.float32)
