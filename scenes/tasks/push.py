"""Task ``push``: push a cube across the table onto a goal disc with the closed gripper (no grasp).

Observation ``object`` (13,): cube position (3), cube quaternion wxyz (4), goal position (3),
cube-minus-end-effector (3). Success: the cube's xy centre is within ``success_threshold`` (3 cm) of the
goal's xy centre. Reward (task parameter ``reward_type``, default "dense"): dense = -(d(ee, cube) +
d_xy(cube, goal)) in metres, staged but linear: the first term leads the tool to the cube, the second rewards every
centimetre the cube moves toward the goal (<= 0; about -0.55 at the start; slope 1 everywhere in the workspace);
sparse = 0 on success, -1 otherwise (panda-gym's convention, for HER).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from scenes.spec import SceneSpec
from scenes.tasks.base import norm, reward_type, servo_action, sparse_reward
from scenes.tasks.params import Length, Number, ObjectName, ObjectNeed, Region2, RewardParams, parse_params
from scenes.tasks.registry import register_task
from sim.backend import EE_LINK, Backend

UP = np.array([1.0, 0.0, 0.0, 0.0])


class PushParams(RewardParams):
    """``task.params`` of push (lengths in metres, angles in radians)."""

    cube: ObjectName = Field("cube", description="the free, colliding box to push")
    goal: ObjectName = Field("goal", description="the fixed marker placed at the goal")
    cube_region: Region2 = ((0.42, -0.12), (0.56, 0.12))
    goal_region: Region2 = ((0.40, -0.22), (0.64, 0.22))
    min_distance: Length = Field(0.10, ge=0, description="goal xy distance from the cube: at least (200 redraws)")
    max_distance: Length = Field(0.22, ge=0, description="... and at most")
    cube_yaw_range: Number = Field(0.5, ge=0, le=2 * math.pi, description="cube yaw uniform in +-range")
    success_threshold: Length = Field(0.03, gt=0)

    @model_validator(mode="after")
    def _distances(self) -> PushParams:
        if self.max_distance < self.min_distance:
            raise ValueError(f"max_distance: must be >= min_distance ({self.min_distance:g})")
        return self


@register_task("push", scene="push", gym_id="robosynth/Push-v0",
               description="push a cube onto a goal disc with the closed gripper (no grasp)")
class PushTask:
    """Reward, success, placement and expert for pushing a cube onto a goal disc."""

    name = "push"
    Params = PushParams

    @staticmethod
    def required_objects(params: PushParams) -> tuple[str, ...]:
        """Return the objects the task needs: the cube and the goal."""
        return params.cube, params.goal

    @staticmethod
    def object_needs(params: PushParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (
            ObjectNeed("cube", params.cube, "the robot pushes it and the expert plans with its edge length",
                       fixed=False, collide=True, shapes=("box",)),
            ObjectNeed("goal", params.goal, "the task places it each episode", fixed=True),
        )

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = parse_params(spec, PushParams)
        self.cube = self.p["cube"]
        self.goal = self.p["goal"]
        self.rest_z = spec.object(self.cube).pose.pos[2]
        self.goal_z = spec.object(self.goal).pose.pos[2]

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Sample the cube pose and a goal ``min_distance``..``max_distance`` away (uses only ``rng``)."""
        lo, hi = np.asarray(self.p["cube_region"], float)
        glo, ghi = np.asarray(self.p["goal_region"], float)
        cube_xy = rng.uniform(lo, hi)
        yaw = rng.uniform(-self.p["cube_yaw_range"], self.p["cube_yaw_range"])
        for _ in range(200):
            goal_xy = rng.uniform(glo, ghi)
            if self.p["min_distance"] <= np.linalg.norm(goal_xy - cube_xy) <= self.p["max_distance"]:
                break
        quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
        backend.set_body_pose(self.cube, np.array([*cube_xy, self.rest_z]), quat)
        backend.set_body_pose(self.goal, np.array([*goal_xy, self.goal_z]), UP)

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return cube pos, cube quat, goal pos, cube - eef (13,)."""
        cp, cq = backend.body_pose(self.cube)
        gp, _ = backend.body_pose(self.goal)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([cp, cq, gp, cp - ep]).astype(np.float32)

    def _goal_distance(self, backend: Backend) -> float:
        cp, _ = backend.body_pose(self.cube)
        gp, _ = backend.body_pose(self.goal)
        return float(norm((cp - gp)[:2]))

    def success(self, backend: Backend) -> bool:
        """Return whether the cube's xy centre is within the threshold of the goal centre."""
        return self._goal_distance(backend) < self.p["success_threshold"]

    def reward(self, backend: Backend) -> float:
        """Return -(d(ee, cube) + d_xy(cube, goal)) (dense) or 0 on success / -1 otherwise (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self.success(backend))
        cp, _ = backend.body_pose(self.cube)
        ep, _ = backend.body_pose(EE_LINK)
        return -float(norm(ep - cp) + self._goal_distance(backend))

    def expert(self) -> PushExpert:
        """Return a fresh scripted expert."""
        return PushExpert(self.spec, half_size=self.spec.object(self.cube).size[0] / 2)


class PushExpert:
    """Scripted push from observations only, gripper closed throughout.

    Every step re-plans from the observed cube and goal: u is the unit cube-to-goal direction in the table
    plane and the pre-push point lies ``half_size + standoff`` behind the cube centre along -u.
    Phases: ``above`` (go over the pre-push point), ``down`` (descend to it, at cube-centre height),
    ``push`` (advance along u while steering back onto the line through the cube centre). If the cube
    drifts so that the tool is more than ``max_lateral`` off that line, the tool moves in the plane back
    to the new pre-push point when it is clear of the cube, and otherwise lifts and approaches again.
    """

    PHASES = ("above", "down", "push", "lift")  # recorded per step as obs/expert_phase (docs/hdf5_format.md)

    def __init__(self, spec: SceneSpec, half_size: float = 0.025, standoff: float = 0.04,
                 clearance: float = 0.08, push_speed: float = 0.5, max_lateral: float = 0.015):
        self.dpos = spec.robot.controller.max_pos_delta
        self.half = half_size
        self.standoff = standoff
        self.clearance = clearance
        self.push_speed = push_speed
        self.max_lateral = max_lateral
        self.reset()

    def reset(self) -> None:
        """Start from the approach phase."""
        self.phase = "above"

    def _move(self, ee: np.ndarray, goal: np.ndarray) -> np.ndarray:
        return servo_action(ee, goal, 0.0, 1.0, self.dpos, 1.0)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        ee = obs["robot0_eef_pos"].astype(float)
        o = obs["object"].astype(float)
        cube, goal = o[0:3], o[7:10]
        to_goal = (goal - cube)[:2]
        u = to_goal / max(np.linalg.norm(to_goal), 1e-6)
        n = np.array([-u[1], u[0]])
        rel = (ee - cube)[:2]
        along, lateral = float(rel @ u), float(rel @ n)
        pre_xy = cube[:2] - u * (self.half + self.standoff)
        high = cube[2] + self.clearance
        if self.phase == "lift":
            if ee[2] > high - 0.01:
                self.phase = "above"
            return self._move(ee, np.array([ee[0], ee[1], high + 0.01]))
        if self.phase == "above":
            if np.linalg.norm(pre_xy - ee[:2]) < 0.01:
                self.phase = "down"
            return self._move(ee, np.array([*pre_xy, high]))
        if self.phase == "down":
            if abs(ee[2] - cube[2]) < 0.008 and np.linalg.norm(pre_xy - ee[:2]) < 0.01:
                self.phase = "push"
            return self._move(ee, np.array([*pre_xy, cube[2]]))
        # push: off the centre line -> realign in the plane if clear of the cube, else lift and re-plan.
        if abs(lateral) > self.max_lateral or along > -self.half:
            clear = along < -(self.half * np.sqrt(2.0) + 0.015)
            self.phase = "down" if clear else "lift"
            return self.act(obs)
        fwd = float(np.clip(np.linalg.norm(to_goal) / self.dpos, 0.2, self.push_speed))
        step = u * fwd - n * np.clip(lateral / self.dpos, -0.7, 0.7)
        z = float(np.clip((cube[2] - ee[2]) / self.dpos, -1.0, 1.0))
        return np.array([step[0], step[1], z, 0.0, 1.0], dtype=np.float32)
