"""Task ``pick_place``: lift the cube onto a target point above the table.

Observation ``object`` (13,): cube position (3), cube quaternion wxyz (4), target position (3),
cube-minus-end-effector (3). Success: the cube centre is within ``success_threshold`` (m) of the target.
Reward (task parameter ``reward_type``, default "dense"): dense = -(d(ee, cube) + d(cube, target)) -
0.1 * (1 - grasp) in metres, where grasp = both fingers touch the cube: staged but linear distances plus a 0.1 grasp
bonus, written as a penalty for not grasping so that the reward stays <= 0 (about -0.7 at the start) and ending the
episode on success never costs reward; sparse = 0 on success, -1 otherwise (panda-gym's convention, for HER).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from scenes.spec import SceneSpec
from scenes.tasks.base import norm, quat_yaw, reward_type, servo_action, sparse_reward
from scenes.tasks.params import Length, Number, ObjectName, ObjectNeed, Region2, RewardParams, parse_params
from scenes.tasks.registry import register_task
from sim.backend import EE_LINK, Backend


class PickPlaceParams(RewardParams):
    """``task.params`` of pick_place (lengths in metres, angles in radians)."""

    cube: ObjectName = Field("cube", description="the free, colliding object to pick")
    target: ObjectName = Field("target", description="the fixed marker placed at the goal point")
    cube_region: Region2 = ((0.42, -0.12), (0.58, 0.12))
    target_region: Region2 = ((0.42, -0.15), (0.58, 0.15))
    target_height: Length = Field(0.1, ge=0, description="goal height above the cube's resting height")
    min_separation: Length = Field(0.08, ge=0, description="min xy distance cube-target (100 redraws)")
    success_threshold: Length = Field(0.03, gt=0)
    cube_yaw_range: Number = Field(0.6, ge=0, le=2 * math.pi, description="cube yaw uniform in +-range")


@register_task("pick_place", scene="pick_place", gym_id="robosynth/PickPlace-v0",
               description="lift the cube onto a target point above the table")
class PickPlaceTask:
    """Reward, success, placement and expert for pick-and-place."""

    name = "pick_place"
    Params = PickPlaceParams

    @staticmethod
    def required_objects(params: PickPlaceParams) -> tuple[str, ...]:
        """Return the objects the task needs: the cube and the target."""
        return params.cube, params.target

    @staticmethod
    def object_needs(params: PickPlaceParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (
            ObjectNeed("cube", params.cube, "the robot grasps and lifts it", fixed=False, collide=True),
            ObjectNeed("target", params.target, "the task places it in mid-air each episode", fixed=True),
        )

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = parse_params(spec, PickPlaceParams)
        self.cube = self.p["cube"]
        self.target = self.p["target"]
        self.rest_z = spec.object(self.cube).pose.pos[2]

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Sample the cube pose and the target point (uses only ``rng``)."""
        lo, hi = np.asarray(self.p["cube_region"], float)
        tlo, thi = np.asarray(self.p["target_region"], float)
        cube_xy = rng.uniform(lo, hi)
        yaw = rng.uniform(-self.p["cube_yaw_range"], self.p["cube_yaw_range"])
        for _ in range(100):
            target_xy = rng.uniform(tlo, thi)
            if np.linalg.norm(target_xy - cube_xy) >= self.p["min_separation"]:
                break
        quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
        backend.set_body_pose(self.cube, np.array([*cube_xy, self.rest_z]), quat)
        tz = self.rest_z + self.p["target_height"]
        backend.set_body_pose(self.target, np.array([*target_xy, tz]), np.array([1.0, 0, 0, 0]))

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return cube pos, cube quat, target pos, cube - eef (13,)."""
        cp, cq = backend.body_pose(self.cube)
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([cp, cq, tp, cp - ep]).astype(np.float32)

    def _grasped(self, backend: Backend) -> bool:
        return {"panda_leftfinger", "panda_rightfinger"} <= backend.touching(self.cube)

    def success(self, backend: Backend) -> bool:
        """Return whether the cube centre is within the threshold of the target."""
        cp, _ = backend.body_pose(self.cube)
        tp, _ = backend.body_pose(self.target)
        return bool(norm(cp - tp) < self.p["success_threshold"])

    def reward(self, backend: Backend) -> float:
        """Return -(d(ee, cube) + d(cube, target)) - 0.1 (not grasped) (dense) or 0 / -1 (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self.success(backend))
        cp, _ = backend.body_pose(self.cube)
        tp, _ = backend.body_pose(self.target)
        ep, _ = backend.body_pose(EE_LINK)
        missing_grasp = 0.0 if self._grasped(backend) else 0.1
        return -float(norm(ep - cp) + norm(cp - tp) + missing_grasp)

    def expert(self) -> PickPlaceExpert:
        """Return a fresh scripted expert."""
        return PickPlaceExpert(self.spec)


class PickPlaceExpert:
    """Scripted pick-and-place from observations only: align, descend, close, carry, hold.

    Each step commands ``gain`` times the remaining error (clipped to one step's reach). With gain 1 a
    single step of action latency makes this a marginally stable loop (poles on the unit circle) that
    oscillates around the goal; gain 0.5 keeps it stable (|poles| = 0.71) under 1-step latency and action
    noise, and costs no steps without them because long moves are clipped anyway.
    """

    PHASES = ("approach", "descend", "close", "carry")  # recorded per step as obs/expert_phase (docs/hdf5_format.md)

    def __init__(self, spec: SceneSpec, gain: float = 0.5):
        c = spec.robot.controller
        self.dpos = c.max_pos_delta
        self.dyaw = c.max_yaw_delta
        self.gain = gain
        self.reset()

    def reset(self) -> None:
        """Start from the approach phase."""
        self.phase = "approach"
        self.close_steps = 0

    def _move(self, ee: np.ndarray, goal: np.ndarray, yaw_err: float, grip: float) -> np.ndarray:
        return servo_action(ee, goal, yaw_err, grip, self.dpos, self.dyaw, self.gain)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        ee = obs["robot0_eef_pos"].astype(float)
        o = obs["object"].astype(float)
        cube, cq, target = o[0:3], o[3:7], o[7:10]
        ee_yaw = quat_yaw(obs["robot0_eef_quat"].astype(float))
        # Tool yaw is defined up to the cube's 90 degree symmetry; choose the nearest equivalent.
        err = (quat_yaw(cq) - ee_yaw + np.pi / 4) % (np.pi / 2) - np.pi / 4
        above = cube + np.array([0.0, 0.0, 0.08])
        if self.phase == "approach":
            if np.linalg.norm((above - ee)[:2]) < 0.01 and abs(err) < 0.05:
                self.phase = "descend"
            return self._move(ee, above, err, -1.0)
        if self.phase == "descend":
            if np.linalg.norm(cube - ee) < 0.012:
                self.phase = "close"
            return self._move(ee, cube, err, -1.0)
        if self.phase == "close":
            self.close_steps += 1
            if self.close_steps >= 5:
                self.phase = "carry"
            return self._move(ee, cube, 0.0, 1.0)
        # carry: move so that the cube (not the tool) reaches the target.
        goal = ee + (target - cube)
        if cube[2] < target[2] - 0.05 and np.linalg.norm((target - cube)[:2]) > 0.02:
            goal = np.array([ee[0], ee[1], ee[2] + (target[2] - cube[2])])
        return self._move(ee, goal, 0.0, 1.0)
