"""Task ``pick_mesh``: pick one named household object out of a small clutter and put it in the bin.

Every object is a mesh from ``assets/objects`` (convex decomposition: ``sim.mesh_convex``); the bin is
``assets/bin/bin.urdf``. Each episode the task places the target and the clutter in ``clutter_region`` at random
xy and yaw (task stream), their footprints ``gap`` apart (``target_gap`` around the target, room for the fingers).

Observation ``object`` (13 + 3 N,): target position (3, its mesh origin: the bottom centre), target quaternion
wxyz (4), bin position (3, the bin's floor origin), target minus end effector (3), then the position of each of
the N ``clutter`` objects (3 each, in the scene's order). Success: the target's origin is inside the bin's inner
footprint (shrunk by 1 cm), below its rim, at rest (moved less than ``settle_speed`` in the last control step) and
neither finger touches it (released). Reward (``reward_type``,
default "dense"): dense = -(d(ee, target) + d(target, bin drop point)) - 0.1 (not grasped), in metres, <= 0;
sparse = 0 on success, -1 otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from scenes.spec import SceneSpec
from scenes.tasks.base import norm, quat_yaw, reward_type, servo_action, sparse_reward
from scenes.tasks.params import XY, Length, ObjectName, ObjectNeed, Region2, RewardParams, parse_params
from scenes.tasks.registry import register_task
from sim.backend import EE_LINK, Backend

FINGERS = {"panda_leftfinger", "panda_rightfinger"}


class PickMeshParams(RewardParams):
    """``task.params`` of pick_mesh (metres). ``<object>_region`` keys override ``clutter_region`` for one object
    (and tell the randomization presets that the task places it)."""

    model_config = ConfigDict(extra="allow")  # only <object>_region keys, checked below

    target: ObjectName = Field("can", description="the object to pick (graspable: about 7 cm wide at most)")
    clutter: tuple[ObjectName, ...] = Field(min_length=1, description="the other free objects on the table")
    bin: ObjectName = Field("bin", description="the fixed bin (assets/bin/bin.urdf)")
    clutter_region: Region2 = Field(description="xy corners where the target and the clutter are placed")
    radii: dict[ObjectName, Length] = Field(default_factory=dict, description="footprint radius per object "
                                            "(m; default 0.05)")
    gap: Length = Field(0.015, ge=0, description="min clearance between two clutter footprints")
    target_gap: Length = Field(0.05, ge=0, description="min clearance around the target (room for fingers)")
    bin_inner: XY = Field((0.30, 0.22), description="the bin's inside length (x) and width (y)")
    bin_rim: Length = Field(0.11, gt=0, description="height of the bin's rim above its origin")
    settle_speed: Length = Field(0.002, gt=0, description="at rest: moved less than this per control step")
    grasp_height: Length = Field(0.08, gt=0, description="the expert grasps this far above the target's origin")

    @model_validator(mode="after")
    def _region_keys(self) -> PickMeshParams:
        for key, value in (self.model_extra or {}).items():
            if not key.endswith("_region"):  # validate_task checks that <object> is a scene object
                known = ", ".join(type(self).model_fields)
                raise ValueError(f"{key}: unknown field (task pick_mesh parameters: {known}, or <object>_region)")
            try:
                TypeAdapter(Region2).validate_python(value)
            except ValidationError as err:
                raise ValueError(f"{key}: {err.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        return self


@register_task("pick_mesh", scene="pick_mesh", gym_id="robosynth/PickMesh-v0",
               description="pick a named household mesh object out of a clutter and put it in the bin")
class PickMeshTask:
    """Placement, reward, success and expert for pick_mesh."""

    name = "pick_mesh"
    Params = PickMeshParams

    @staticmethod
    def required_objects(params: PickMeshParams) -> tuple[str, ...]:
        """Return the objects the task needs: the target, the clutter and the bin."""
        return params.target, *params.clutter, params.bin

    @staticmethod
    def object_needs(params: PickMeshParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return (
            ObjectNeed("target", params.target, "the robot picks it up", fixed=False, collide=True),
            *(ObjectNeed(f"clutter[{i}]", name, "the task places it on the table each episode", fixed=False,
                         collide=True) for i, name in enumerate(params.clutter)),
            ObjectNeed("bin", params.bin, "the target is put into it", fixed=True, collide=True),
        )

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = p = parse_params(spec, PickMeshParams)
        self.target, self.bin = p["target"], p["bin"]
        self.clutter = list(p["clutter"])
        self.rest_z = {n: spec.object(n).pose.pos[2] for n in [self.target, *self.clutter]}
        extra = p.model_extra or {}
        self.regions = {n: np.asarray(extra.get(f"{n}_region", p["clutter_region"]), float)
                        for n in [self.target, *self.clutter]}
        self.half = np.asarray(p["bin_inner"], float) / 2 - 0.01
        self._last: np.ndarray | None = None
        self._succeeded = False

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Place the target, then each clutter object, at a random xy and yaw with clearance (uses only ``rng``)."""
        radii = self.p["radii"]
        placed: list[tuple[np.ndarray, float, str]] = []
        for name in [self.target, *self.clutter]:
            r = float(radii.get(name, 0.05))
            lo, hi = self.regions[name]
            for _ in range(200):
                xy = rng.uniform(lo, hi)
                if all(np.linalg.norm(xy - q) >= r + rq + self._gap(name, other) for q, rq, other in placed):
                    break
            placed.append((xy, r, name))  # after 200 draws the last one is used (deterministically)
            yaw = rng.uniform(-math.pi, math.pi)
            quat = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
            backend.set_body_pose(name, np.array([*xy, self.rest_z[name]]), quat)
        self._last, self._succeeded = None, False

    def _gap(self, a: str, b: str) -> float:
        return float(self.p["target_gap"] if self.target in (a, b) else self.p["gap"])

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return target pos, target quat, bin pos, target - eef, clutter positions (13 + 3 N,)."""
        tp, tq = backend.body_pose(self.target)
        bp, _ = backend.body_pose(self.bin)
        ep, _ = backend.body_pose(EE_LINK)
        others = [backend.body_pose(n)[0] for n in self.clutter]
        return np.concatenate([tp, tq, bp, tp - ep, *others]).astype(np.float32)

    def _touching_fingers(self, backend: Backend) -> set[str]:
        return backend.touching(self.target) & FINGERS

    def success(self, backend: Backend) -> bool:
        """Return True once the target rests in the bin (inside its footprint, below its rim, moved less than
        ``settle_speed`` in the last control step) and no finger touches it (call once per control step)."""
        tp, _ = backend.body_pose(self.target)
        bp, _ = backend.body_pose(self.bin)
        moved = np.inf if self._last is None else float(norm(tp - self._last))
        self._last = tp
        inside = bool(np.all(np.abs(tp[:2] - bp[:2]) < self.half) and tp[2] < bp[2] + self.p["bin_rim"])
        self._succeeded = inside and moved < self.p["settle_speed"] and not self._touching_fingers(backend)
        return self._succeeded

    def reward(self, backend: Backend) -> float:
        """Return -(d(ee, target) + d(target, bin)) - 0.1 (not grasped) (dense) or 0 / -1 (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self._succeeded)
        tp, _ = backend.body_pose(self.target)
        bp, _ = backend.body_pose(self.bin)
        ep, _ = backend.body_pose(EE_LINK)
        grasp = self._touching_fingers(backend) == FINGERS
        return -float(norm(ep - (tp + [0, 0, self.p["grasp_height"]])) + norm(tp - bp)
                      + (0.0 if grasp else 0.1))

    def expert(self) -> PickMeshExpert:
        """Return a fresh scripted expert."""
        return PickMeshExpert(self.spec)


class PickMeshExpert:
    """Scripted pick-into-bin from observations only: align above the target with the fingers closing across
    the free side (perpendicular to the nearest clutter object), descend, close, lift, carry over the bin, lower,
    release, back off. A grasp that slips (target far from the fingers while carrying) starts over."""

    PHASES = ("approach", "descend", "close", "lift", "carry", "lower", "release")  # recorded as obs/expert_phase

    def __init__(self, spec: SceneSpec, gain: float = 0.5):
        c = spec.robot.controller
        p = parse_params(spec, PickMeshParams)
        self.dpos, self.dyaw, self.gain = c.max_pos_delta, c.max_yaw_delta, gain
        self.grasp_h = float(p["grasp_height"])
        self.rim = float(p["bin_rim"])
        self.reset()

    def reset(self) -> None:
        """Start from the approach phase."""
        self.phase, self.count = "approach", 0
        self.yaw_goal: float | None = None

    def _move(self, ee: np.ndarray, goal: np.ndarray, yaw_err: float, grip: float) -> np.ndarray:
        return servo_action(ee, goal, yaw_err, grip, self.dpos, self.dyaw, self.gain)

    @staticmethod
    def _grasp_yaw(target: np.ndarray, others: np.ndarray, ee_yaw: float) -> float:
        """Return the tool yaw (nearest to ``ee_yaw`` modulo pi) whose closing axis is perpendicular to the
        direction of the nearest clutter object (the fingers then move along the free side)."""
        d = others[:, :2] - target[:2]
        near = d[int(np.argmin(np.linalg.norm(d, axis=1)))]
        want = math.atan2(near[1], near[0])  # the closing axis (tool y) is then at want + pi/2
        return ee_yaw + (want - ee_yaw + math.pi / 2) % math.pi - math.pi / 2

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the next ee_delta action."""
        ee = obs["robot0_eef_pos"].astype(float)
        o = obs["object"].astype(float)
        target, bin_pos, others = o[0:3], o[7:10], o[13:].reshape(-1, 3)
        ee_yaw = quat_yaw(obs["robot0_eef_quat"].astype(float))
        if self.yaw_goal is None:
            self.yaw_goal = self._grasp_yaw(target, others, ee_yaw) if len(others) else ee_yaw
        yaw_err = (float(self.yaw_goal) - ee_yaw + math.pi / 2) % math.pi - math.pi / 2  # symmetric hand: mod pi
        grasp = target + [0.0, 0.0, self.grasp_h]
        carry_z = bin_pos[2] + self.rim + self.grasp_h + 0.12
        if self.phase == "approach":
            above = grasp + [0.0, 0.0, 0.1]
            if np.linalg.norm((above - ee)[:2]) < 0.01 and abs(yaw_err) < 0.05:
                self.phase = "descend"
            return self._move(ee, above, yaw_err, -1.0)
        if self.phase == "descend":
            if np.linalg.norm(grasp - ee) < 0.012:
                self.phase, self.count = "close", 0
            return self._move(ee, grasp, yaw_err, -1.0)
        if self.phase == "close":
            self.count += 1
            if self.count >= 6:
                self.phase = "lift"
            return self._move(ee, ee, 0.0, 1.0)
        if self.phase in ("lift", "carry", "lower") and np.linalg.norm(grasp - ee) > 0.05:
            self.phase, self.yaw_goal = "approach", None  # the target slipped out: start over
            return self._move(ee, ee + [0, 0, 0.02], 0.0, -1.0)
        if self.phase == "lift":
            if ee[2] > carry_z - 0.02:
                self.phase = "carry"
            return self._move(ee, np.array([ee[0], ee[1], carry_z]), 0.0, 1.0)
        drop = np.array([bin_pos[0], bin_pos[1], carry_z])
        if self.phase == "carry":
            if np.linalg.norm((drop - ee)[:2]) < 0.015:
                self.phase = "lower"
            return self._move(ee, drop, 0.0, 1.0)
        release = drop - [0.0, 0.0, 0.07]
        if self.phase == "lower":
            if ee[2] < release[2] + 0.01:
                self.phase = "release"
            return self._move(ee, release, 0.0, 1.0)
        return self._move(ee, release + [0.0, 0.0, 0.1], 0.0, -1.0)  # release: open and back off upwards
