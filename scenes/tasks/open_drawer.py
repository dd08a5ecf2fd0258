"""Task ``open_drawer``: grasp the drawer handle of an articulated cabinet and pull the drawer open.

Observation ``object`` (12,): handle position (3), handle quaternion wxyz (4), handle-minus-end-effector (3), the
drawer joint's position (m, 0 = closed) and velocity (m/s). Success: the drawer joint is open by at least
``open_threshold``. Reward (``reward_type``): dense = -(d(ee, handle) + the opening still missing) - 0.1 * (1 -
grasp), in metres, where grasp = both fingers touch the drawer; sparse = 0 on success, -1 otherwise.

The cabinet is any ``shape: articulated`` object; ``drawer_joint`` names its prismatic joint and ``handle_link`` the
link whose frame is the grasp point, with its -x axis the pull direction (the shipped ``cabinet/cabinet.urdf``).
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
from sim.errors import SceneError

FINGERS = ("panda_leftfinger", "panda_rightfinger")
MISSED_GRASP = 0.004  # m, both fingers' opening together: less means the gripper closed on nothing


class OpenDrawerParams(RewardParams):
    """``task.params`` of open_drawer (lengths in metres, angles in radians)."""

    cabinet: ObjectName = Field("cabinet", description="the articulated object with the drawer")
    drawer_joint: ObjectName = Field("drawer_slide", description="the drawer's prismatic joint (URDF name)")
    handle_link: ObjectName = Field("handle", description="the link whose frame is the handle's grasp point")
    cabinet_region: Region2 = ((0.78, -0.08), (0.84, 0.08))
    cabinet_yaw_range: Number = Field(0.2, ge=0, le=math.pi / 4, description="cabinet yaw uniform in +-range")
    open_threshold: Length = Field(0.12, gt=0, description="drawer opening (joint position) that counts as open")


@register_task("open_drawer", scene="open_drawer", gym_id="robosynth/OpenDrawer-v0",
               description="grasp a cabinet's drawer handle and pull the drawer open")
class OpenDrawerTask:
    """Reward, success, placement and expert for opening a drawer."""

    name = "open_drawer"
    Params = OpenDrawerParams

    @staticmethod
    def required_objects(params: OpenDrawerParams) -> tuple[str, ...]:
        """Return the objects the task needs: the cabinet."""
        return (params.cabinet,)

    @staticmethod
    def object_needs(params: OpenDrawerParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (ObjectNeed("cabinet", params.cabinet, "the robot pulls its drawer open", fixed=True,
                           shapes=("articulated",)),)

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = parse_params(spec, OpenDrawerParams)
        self.cabinet = self.p["cabinet"]
        self.handle = f"{self.cabinet}/{self.p['handle_link']}"
        self.z = spec.object(self.cabinet).pose.pos[2]
        self._joint: int | None = None

    def _joint_index(self, backend: Backend) -> int:
        if self._joint is None:
            names = backend.object_joint_names(self.cabinet)
            if self.p["drawer_joint"] not in names:
                raise SceneError(f"task.params.drawer_joint: '{self.p['drawer_joint']}' is not a movable joint of "
                                 f"'{self.cabinet}' (joints: {', '.join(names) or 'none'})")
            try:
                backend.body_pose(self.handle)
            except KeyError:
                raise SceneError(f"task.params.handle_link: '{self.cabinet}' has no link "
                                 f"'{self.p['handle_link']}'") from None
            self._joint = names.index(self.p["drawer_joint"])
        return self._joint

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Place the cabinet in ``cabinet_region`` with a small yaw, drawer closed (uses only ``rng``)."""
        self._joint_index(backend)
        lo, hi = np.asarray(self.p["cabinet_region"], float)
        xy = rng.uniform(lo, hi)
        yaw = rng.uniform(-self.p["cabinet_yaw_range"], self.p["cabinet_yaw_range"])
        quat = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
        backend.set_body_pose(self.cabinet, np.array([*xy, self.z]), quat)

    def opening(self, backend: Backend) -> tuple[float, float]:
        """Return the drawer joint's (position, velocity)."""
        q, qd = backend.object_joint_state(self.cabinet)
        k = self._joint_index(backend)
        return float(q[k]), float(qd[k])

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return handle pos, handle quat, handle - eef, drawer position and velocity (12,)."""
        hp, hq = backend.body_pose(self.handle)
        ep, _ = backend.body_pose(EE_LINK)
        return np.concatenate([hp, hq, hp - ep, self.opening(backend)]).astype(np.float32)

    def _grasped(self, backend: Backend) -> bool:
        return set(FINGERS) <= backend.touching(f"{self.cabinet}/")  # its links, not its fixed base

    def success(self, backend: Backend) -> bool:
        """Return whether the drawer is open by at least ``open_threshold``."""
        return self.opening(backend)[0] >= self.p["open_threshold"]

    def reward(self, backend: Backend) -> float:
        """Return -(d(ee, handle) + missing opening) - 0.1 (not grasped) (dense) or 0 / -1 (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self.success(backend))
        hp, _ = backend.body_pose(self.handle)
        ep, _ = backend.body_pose(EE_LINK)
        missing = max(0.0, self.p["open_threshold"] - self.opening(backend)[0])
        return -float(norm(ep - hp) + missing + (0.0 if self._grasped(backend) else 0.1))

    def expert(self) -> OpenDrawerExpert:
        """Return a fresh scripted expert."""
        return OpenDrawerExpert(self.spec, self.p["open_threshold"])


def _pull_direction(handle_quat: np.ndarray) -> np.ndarray:
    """Return the handle frame's -x axis in the table plane (the direction that opens the drawer)."""
    yaw = quat_yaw(handle_quat)
    return np.array([-math.cos(yaw), -math.sin(yaw), 0.0])


class OpenDrawerExpert:
    """Scripted drawer opening from observations only: align above the handle, descend, close, pull (and, if the
    gripper closed on nothing, open, rise and try again).

    ``PHASES`` are recorded per step as obs/expert_phase (docs/hdf5_format.md).

    The fingers close across the handle rod (the tool's yaw = the handle's, modulo 180 degrees); the pull
    follows the handle's -x axis until the drawer is ``margin`` past the threshold. Gain 0.5 per step as in the
    other experts (stable under one step of action latency).
    """

    PHASES = ("approach", "descend", "close", "pull", "retreat")

    def __init__(self, spec: SceneSpec, open_threshold: float, gain: float = 0.5, yaw_gain: float = 0.25,
                 margin: float = 0.04):
        c = spec.robot.controller
        self.dpos = c.max_pos_delta
        self.dyaw = c.max_yaw_delta
        self.gain = gain
        self.yaw_gain = yaw_gain
        self.goal_opening = open_threshold + margin
        self.reset()

    def reset(self) -> None:
        """Start from the approach phase."""
        self.phase = "approach"
        self.close_steps = 0

    def _move(self, ee: np.ndarray, goal: np.ndarray, yaw_err: float, grip: float) -> np.ndarray:
        return servo_action(ee, goal, yaw_err, grip, self.dpos, self.dyaw, self.gain, self.yaw_gain)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        ee = obs["robot0_eef_pos"].astype(float)
        o = obs["object"].astype(float)
        handle, hq, opening = o[0:3], o[3:7], float(o[10])
        ee_yaw = quat_yaw(obs["robot0_eef_quat"].astype(float))
        err = (quat_yaw(hq) - ee_yaw + math.pi / 2) % math.pi - math.pi / 2
        above = handle + np.array([0.0, 0.0, 0.08])
        if self.phase == "approach":
            if np.linalg.norm((above - ee)[:2]) < 0.01 and abs(err) < 0.05:
                self.phase = "descend"
            return self._move(ee, above, err, -1.0)
        if self.phase == "descend":
            if np.linalg.norm(handle - ee) < 0.01:
                self.phase = "close"
            # lower only while the tool is aligned: a turned hand would hit the cabinet front
            goal = handle if abs(err) < 0.1 else np.array([*handle[:2], ee[2]])
            return self._move(ee, goal, err, -1.0)
        if self.phase == "close":
            self.close_steps += 1
            if self.close_steps >= 6:
                self.phase = "pull"
            return self._move(ee, handle, 0.0, 1.0)
        if self.phase == "pull" and float(np.sum(obs["robot0_gripper_qpos"])) < MISSED_GRASP:
            self.phase, self.close_steps = "retreat", 0  # closed on nothing: open, rise, and try again
        if self.phase == "retreat":
            if ee[2] > above[2] - 0.01:
                self.phase = "approach"
            return self._move(ee, np.array([*ee[:2], above[2]]), 0.0, -1.0)
        goal = handle + _pull_direction(hq) * max(0.0, self.goal_opening - opening)
        return self._move(ee, goal, 0.0, 1.0)
