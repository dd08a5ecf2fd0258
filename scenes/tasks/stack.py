"""Task ``stack``: pick the red cube ``cube_a`` and leave it resting on the blue cube ``cube_b``.

Observation ``object`` (17,): cube_a position (3), cube_a quaternion wxyz (4), cube_b position (3),
cube_b quaternion wxyz (4), cube_a-minus-end-effector (3).
Success: cube_a's xy centre is within ``xy_threshold`` (2 cm) of cube_b's, the height difference is
(size_a + size_b) / 2 within ``z_tolerance`` (1 cm), and no robot link touches cube_a (it was released and
rests on cube_b by itself). Reward (task parameter ``reward_type``, default "dense"), in metres:
dense = -(d(ee, cube_a) + place + 0.1 * (1 - grasp)) until cube_a is placed, then -place, where
place = d(cube_a, cube_b + [0, 0, (size_a + size_b) / 2]), grasp = both fingers touch cube_a and "placed" is the
geometric part of success (xy and height within the thresholds, whether or not the robot still touches it): staged
linear distances plus a 0.1 grasp bonus written as a penalty, so the reward stays <= 0 (about -0.65 at the start)
and letting go of a placed cube costs nothing; sparse = 0 on success, -1 otherwise (panda-gym's convention).
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


class StackParams(RewardParams):
    """``task.params`` of stack (lengths in metres, angles in radians)."""

    cube_a: ObjectName = Field("cube_a", description="the free, colliding box to pick and stack")
    cube_b: ObjectName = Field("cube_b", description="the colliding box to stack it on (free or fixed)")
    cube_a_region: Region2 = ((0.42, -0.15), (0.58, 0.15))
    cube_b_region: Region2 = ((0.42, -0.15), (0.58, 0.15))
    min_separation: Length = Field(0.10, ge=0, description="min xy distance of the cubes (200 redraws)")
    cube_yaw_range: Number = Field(0.6, ge=0, le=2 * math.pi, description="both yaws uniform in +-range")
    xy_threshold: Length = Field(0.02, gt=0)
    z_tolerance: Length = Field(0.01, gt=0)


FINGERS = {"panda_leftfinger", "panda_rightfinger"}


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


@register_task("stack", scene="stack", gym_id="robosynth/Stack-v0",
               description="pick one cube and release it on top of another")
class StackTask:
    """Reward, success, placement and expert for stacking two cubes."""

    name = "stack"
    Params = StackParams

    @staticmethod
    def required_objects(params: StackParams) -> tuple[str, ...]:
        """Return the objects the task needs: cube_a and cube_b."""
        return params.cube_a, params.cube_b

    @staticmethod
    def object_needs(params: StackParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (
            ObjectNeed("cube_a", params.cube_a, "the robot grasps it and the stacked height uses its size",
                       fixed=False, collide=True, shapes=("box",)),
            ObjectNeed("cube_b", params.cube_b, "cube_a rests on it and the stacked height uses its size",
                       collide=True, shapes=("box",)),
        )

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = parse_params(spec, StackParams)
        self.a = self.p["cube_a"]
        self.b = self.p["cube_b"]
        oa, ob = spec.object(self.a), spec.object(self.b)
        self.size_a, self.size_b = float(oa.size[2]), float(ob.size[2])
        self.rest_a, self.rest_b = oa.pose.pos[2], ob.pose.pos[2]
        self.dz = (self.size_a + self.size_b) / 2

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Sample both cube poses at least ``min_separation`` apart (uses only ``rng``)."""
        alo, ahi = np.asarray(self.p["cube_a_region"], float)
        blo, bhi = np.asarray(self.p["cube_b_region"], float)
        yr = self.p["cube_yaw_range"]
        a_xy = rng.uniform(alo, ahi)
        for _ in range(200):
            b_xy = rng.uniform(blo, bhi)
            if np.linalg.norm(b_xy - a_xy) >= self.p["min_separation"]:
                break
        yaws = rng.uniform(-yr, yr, 2)
        backend.set_body_pose(self.a, np.array([*a_xy, self.rest_a]), _yaw_quat(yaws[0]))
        backend.set_body_pose(self.b, np.array([*b_xy, self.rest_b]), _yaw_quat(yaws[1]))

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return cube_a pos, cube_a quat, cube_b pos, cube_b quat, cube_a - eef (17,)."""
        ap, aq = backend.body_pose(self.a)
        bp, bq = backend.body_pose(self.b)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([ap, aq, bp, bq, ap - ep]).astype(np.float32)

    def _touching_a(self, backend: Backend) -> set[str]:
        return backend.touching(self.a)

    def success(self, backend: Backend) -> bool:
        """Return whether cube_a rests on cube_b, released by the robot."""
        ap, _ = backend.body_pose(self.a)
        bp, _ = backend.body_pose(self.b)
        if np.linalg.norm((ap - bp)[:2]) >= self.p["xy_threshold"]:
            return False
        if abs(ap[2] - bp[2] - self.dz) >= self.p["z_tolerance"]:
            return False
        return not any(name.startswith("panda_") for name in self._touching_a(backend))

    def reward(self, backend: Backend) -> float:
        """Return the staged linear dense reward (<= 0) or 0 on success / -1 otherwise (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self.success(backend))
        ap, _ = backend.body_pose(self.a)
        bp, _ = backend.body_pose(self.b)
        place = float(norm(ap - bp - np.array([0.0, 0.0, self.dz])))
        placed = (norm((ap - bp)[:2]) < self.p["xy_threshold"]
                  and abs(ap[2] - bp[2] - self.dz) < self.p["z_tolerance"])
        if placed:
            return -place
        ep, _ = backend.body_pose(EE_LINK)
        missing_grasp = 0.0 if FINGERS <= self._touching_a(backend) else 0.1
        return -float(norm(ep - ap) + place + missing_grasp)

    def expert(self) -> StackExpert:
        """Return a fresh scripted expert."""
        return StackExpert(self.spec, self.dz)


class StackExpert:
    """Scripted stacking from observations only.

    Phases: ``approach`` (over cube_a, yaw aligned), ``descend``, ``close``, ``lift`` (straight up to a carry
    height), ``carry`` (cube_a over cube_b), ``lower`` (cube_a onto cube_b's top), ``release`` (open, then
    rise). If the fingers close on nothing, cube_a leaves the gripper while carried, or the released cube
    lies more than 1.5 cm off cube_b's centre, it starts over from ``approach``.
    """

    # recorded per step as obs/expert_phase (docs/hdf5_format.md)
    PHASES = ("approach", "descend", "close", "lift", "carry", "lower", "release")

    def __init__(self, spec: SceneSpec, stack_dz: float = 0.045, clearance: float = 0.04, yaw_gain: float = 0.4):
        c = spec.robot.controller
        self.dpos = c.max_pos_delta
        self.dyaw = c.max_yaw_delta
        self.dz = stack_dz
        self.clearance = clearance
        self.yaw_gain = yaw_gain
        self.reset()

    def reset(self) -> None:
        """Start from the approach phase."""
        self.phase = "approach"
        self.count = 0

    def _move(self, ee: np.ndarray, goal: np.ndarray, yaw_err: float, grip: float) -> np.ndarray:
        # The wrist lags the yaw target by a few steps: a low gain avoids overshoot and oscillation.
        return servo_action(ee, goal, yaw_err, grip, self.dpos, self.dyaw, yaw_gain=self.yaw_gain, yaw_limit=0.5)

    def _set(self, phase: str) -> None:
        self.phase = phase
        self.count = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        ee = obs["robot0_eef_pos"].astype(float)
        o = obs["object"].astype(float)
        a, aq, b = o[0:3], o[3:7], o[7:10]
        fingers = float(np.sum(obs["robot0_gripper_qpos"]))
        # Tool yaw is defined up to the cube's 90 degree symmetry; choose the nearest equivalent.
        yaw_err = (quat_yaw(aq) - quat_yaw(obs["robot0_eef_quat"].astype(float)) + np.pi / 4) % (np.pi / 2) - np.pi / 4
        self.count += 1
        on_b = b + np.array([0.0, 0.0, self.dz])
        carry_z = on_b[2] + self.clearance
        in_hand = np.linalg.norm(a - ee) < 0.02
        if self.phase in ("lift", "carry", "lower") and not in_hand:
            self._set("approach")
        if self.phase == "approach":
            above = a + np.array([0.0, 0.0, 0.08])
            if np.linalg.norm((above - ee)[:2]) < 0.01 and abs(yaw_err) < 0.05 and fingers > 0.07:
                self._set("descend")
            return self._move(ee, above, yaw_err, -1.0)
        if self.phase == "descend":
            if np.linalg.norm(a - ee) < 0.012:
                self._set("close")
            return self._move(ee, a, yaw_err, -1.0)
        if self.phase == "close":
            if self.count >= 6:
                self._set("lift" if fingers > 0.02 else "approach")
            return self._move(ee, a, 0.0, 1.0)
        if self.phase == "lift":
            if a[2] > carry_z - 0.01:
                self._set("carry")
            return self._move(ee, np.array([ee[0], ee[1], ee[2] + carry_z - a[2]]), 0.0, 1.0)
        if self.phase == "carry":
            if np.linalg.norm((on_b - a)[:2]) < 0.006:
                self._set("lower")
            return self._move(ee, ee + np.array([*(on_b - a)[:2], carry_z - a[2]]), 0.0, 1.0)
        if self.phase == "lower":
            aligned = np.linalg.norm((on_b - a)[:2]) < 0.008
            if (aligned and a[2] - on_b[2] < 0.004) or self.count > 20:
                self._set("release")
            return self._move(ee, ee + (on_b + np.array([0.0, 0.0, 0.002]) - a), 0.0, 1.0)
        # release: open slightly (the cube slips free without being flicked), then fully, then rise;
        # if the released cube is visibly off cube_b's centre or fell, pick it up again.
        misplaced = np.linalg.norm((on_b - a)[:2]) > 0.015 or abs(a[2] - on_b[2]) > 0.008
        if self.count > 8 and misplaced:
            self._set("approach")
            return self._move(ee, ee, 0.0, -1.0)
        grip = -0.3 if self.count <= 3 else -1.0
        up = 0.0 if self.count <= 5 else 0.5
        return np.array([0.0, 0.0, up, 0.0, grip], dtype=np.float32)
