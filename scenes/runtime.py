"""A scene running on one backend: controller + task + observation, one control step at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from scenes.spec import SceneSpec
from scenes.step_reads import StepReads
from scenes.tasks import make_task
from scenes.tasks.base import robot_obs
from sim.backend import Backend, make_backend
from sim.control import Controller
from sim.errors import PhysicsError


@dataclass
class StepResult:
    """What one control step returns."""

    obs: dict[str, np.ndarray]
    reward: float
    terminated: bool
    truncated: bool
    info: dict = field(default_factory=dict)


def step_info(success: bool, failure_reason: str) -> dict:
    """Return a step's info: ``is_success`` (the key SB3, gymnasium-robotics and panda-gym read), ``success``
    (the same bool, robosynth's original key) and ``failure_reason`` ("" unless a blow-up ended the episode)."""
    return {"is_success": bool(success), "success": bool(success), "failure_reason": failure_reason}


class Simulation:
    """Runs a SceneSpec on a backend with the scene's controller and task."""

    def __init__(self, spec: SceneSpec, backend: str | Backend, scene_dir: Path | None = None,
                 visual_detail: float = 1.0):
        self.spec = spec
        self.backend: Backend = make_backend(backend) if isinstance(backend, str) else backend
        self.backend.build(spec, scene_dir, visual_detail)
        self.controller = Controller(spec.robot)
        self.task = make_task(spec, scene_dir)
        self.substeps = spec.physics.substeps
        self.t = 0

    def reset(self, task_rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Reset the world, let the task place its objects, and return the first observation."""
        self.backend.reset()
        self.task.reset(self.backend, task_rng)
        q = self.backend.joint_positions()
        self.controller.reset(q[:7], float(q[7]))
        self.t = 0
        return self.observe()

    def observe(self, reads: Backend | None = None) -> dict[str, np.ndarray]:
        """Return the low-dim observation dict (robomimic key names, float32), read from ``reads`` (a
        ``StepReads`` of this step) or the backend."""
        backend = self.backend if reads is None else reads
        obs = robot_obs(backend)
        obs["object"] = self.task.object_obs(backend)
        return obs

    def step(self, action: np.ndarray) -> StepResult:
        """Apply one action for ``substeps`` physics steps; physics blow-ups end the episode as failed."""
        q_arm, finger = self.controller.targets(action)
        self.backend.set_joint_targets(q_arm, finger)
        self.t += 1
        try:
            self.backend.step(self.substeps)
        except PhysicsError as exc:
            return StepResult({}, 0.0, True, False, step_info(False, str(exc)))
        reads = cast(Backend, StepReads(self.backend))  # observation, success and reward share the engine reads
        obs = self.observe(reads)
        if not np.isfinite(np.concatenate([v.ravel() for v in obs.values()])).all():  # one check, not one per key
            return StepResult({}, 0.0, True, False, step_info(False, "non-finite observation"))
        success = self.task.success(reads)
        reward = self.task.reward(reads)
        truncated = self.t >= self.spec.task.horizon and not success
        return StepResult(obs, reward, success, truncated, step_info(success, ""))

    def close(self) -> None:
        """Release the engine."""
        self.backend.close()


def run_expert(sim: Simulation, obs: dict[str, np.ndarray], max_steps: int | None = None) -> StepResult:
    """Run the task's scripted expert from ``obs`` until the episode ends; return the last step."""
    expert = sim.task.expert()
    expert.reset()
    result = StepResult(obs, 0.0, False, False, step_info(False, ""))
    for _ in range(max_steps or sim.spec.task.horizon):
        result = sim.step(expert.act(obs))
        obs = result.obs
        if result.terminated or result.truncated:
            break
    return result
