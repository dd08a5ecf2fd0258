"""Task ``clutter``: procedural objects dropped into a tray, for perception data.

Each episode the task drops every listed object from a random pose above the tray (drawn from the task
stream). Observation ``object`` (3N,): the N object positions. Success: every object rests (moved less
than ``settle_speed`` m in the last control step, after at least 10 steps) inside the tray's footprint and
below its rim. Reward (task parameter ``reward_type``, default "dense"): dense = minus the mean distance (m) of the
objects from the tray's inside volume (footprint + 1 cm, below rim + 2 cm), 0 once all are in it, so it slopes
wherever an object lies or falls; sparse = 0 on success, -1 otherwise (panda-gym's convention). The scene starts the arm
rotated away from the tray (joint 1 = 1.3 rad) and the expert holds it there, gripper open.
"""

from __future__ import annotations

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from scenes.spec import SceneSpec
from scenes.tasks.base import reward_type, sparse_reward
from scenes.tasks.params import XY, Coord, Interval, Length, ObjectName, ObjectNeed, Region2, RewardParams, parse_params
from scenes.tasks.registry import register_task
from sim.backend import Backend


class ClutterParams(RewardParams):
    """``task.params`` of clutter (metres). ``<object>_region`` keys (a region each, naming a scene object) are
    markers only: they tell the randomization presets that the task places those objects."""

    model_config = ConfigDict(extra="allow")  # only the <object>_region markers, checked below

    objects: tuple[ObjectName, ...] = Field(min_length=1, description="the free objects dropped each episode")
    drop_region: Region2 = Field(description="xy corners of the drop area")
    drop_height: Interval = Field(description="[low, high] drop height (z of the object origin)")
    tray_center: XY = Field(description="xy centre of the tray")
    tray_half_size: Length = Field(gt=0, description="half the tray's inner width")
    tray_top: Coord = Field(description="z of the tray's rim")
    settle_speed: Length = Field(0.002, gt=0, description="at rest: moved less than this per control step")
    spacing: Length = Field(0.09, ge=0, description="min distance of drop points (200 redraws)")

    @model_validator(mode="after")
    def _region_markers(self) -> ClutterParams:
        for key, value in (self.model_extra or {}).items():
            if not key.endswith("_region"):  # validate_task checks that <object> is a scene object
                known = ", ".join(type(self).model_fields)
                raise ValueError(f"{key}: unknown field (task clutter parameters: {known}, or <object>_region)")
            try:
                TypeAdapter(Region2).validate_python(value)
            except ValidationError as err:
                raise ValueError(f"{key}: {err.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        return self


def random_quat(rng: np.random.Generator) -> np.ndarray:
    """Return a uniformly random unit quaternion (w, x, y, z) with w >= 0."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q


@register_task("clutter", scene="clutter", gym_id="robosynth/Clutter-v0",
               description="drop objects into a tray until they settle (perception data; the arm stays clear)")
class ClutterTask:
    """Drop objects into the tray and wait for them to settle."""

    name = "clutter"
    Params = ClutterParams

    @staticmethod
    def required_objects(params: ClutterParams) -> tuple[str, ...]:
        """Return the objects the task needs: every dropped object."""
        return tuple(params.objects)

    @staticmethod
    def object_needs(params: ClutterParams) -> tuple[ObjectNeed, ...]:
        """Return what the task relies on in its objects (checked before any engine starts)."""
        return tuple(ObjectNeed(f"objects[{i}]", name, "the task drops it into the tray and waits for it to rest",
                                fixed=False, collide=True) for i, name in enumerate(params.objects))

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.reward_type = reward_type(spec)
        self.p = p = parse_params(spec, ClutterParams)
        self.objects = list(p["objects"])
        self.region = np.asarray(p["drop_region"], float)
        self.heights = tuple(p["drop_height"])
        self.center = np.asarray(p["tray_center"], float)
        self.half = float(p["tray_half_size"])
        self.top = float(p["tray_top"])
        self.settle = float(p["settle_speed"])
        self.spacing = float(p["spacing"])
        self._last: np.ndarray | None = None
        self._steps = 0
        self._succeeded = False

    def reset(self, backend: Backend, rng: np.random.Generator) -> None:
        """Drop every object from a random pose above the tray; centres at least ``spacing`` apart."""
        lo, hi = self.heights
        placed: list[np.ndarray] = []
        for name in self.objects:
            for _ in range(200):
                p = np.array([*rng.uniform(self.region[0], self.region[1]), rng.uniform(lo, hi)])
                if all(np.linalg.norm(p - q) >= self.spacing for q in placed):
                    break
            placed.append(p)  # after 200 tries the last draw is used (deterministically)
            backend.set_body_pose(name, p, random_quat(rng))
        self._last = None
        self._steps = 0
        self._succeeded = False

    def _positions(self, backend: Backend) -> np.ndarray:
        return np.array([backend.body_pose(n)[0] for n in self.objects])

    def object_obs(self, backend: Backend) -> np.ndarray:
        """Return the object positions, flattened (3N,)."""
        return self._positions(backend).astype(np.float32).ravel()

    def _inside(self, pos: np.ndarray) -> np.ndarray:
        d = np.abs(pos[:, :2] - self.center)
        return (d.max(axis=1) < self.half + 0.01) & (pos[:, 2] < self.top + 0.02)

    def success(self, backend: Backend) -> bool:
        """Return True once every object is inside the tray and at rest (call once per control step)."""
        pos = self._positions(backend)
        moved = np.inf if self._last is None else float(np.linalg.norm(pos - self._last, axis=1).max())
        self._last = pos
        self._steps += 1
        self._succeeded = bool(self._steps >= 10 and moved < self.settle and self._inside(pos).all())
        return self._succeeded

    def reward(self, backend: Backend) -> float:
        """Return minus the mean distance of the objects from the tray volume (dense) or 0 / -1 (sparse)."""
        if self.reward_type == "sparse":
            return sparse_reward(self._succeeded)
        pos = self._positions(backend)
        out_xy = np.maximum(np.abs(pos[:, :2] - self.center) - (self.half + 0.01), 0.0)
        out_z = np.maximum(pos[:, 2] - (self.top + 0.02), 0.0)
        return -float(np.sqrt((out_xy**2).sum(axis=1) + out_z**2).mean())

    def expert(self) -> ClutterExpert:
        """Return the arm-parking expert."""
        return ClutterExpert(self.spec)


class ClutterExpert:
    """Holds the arm still in its retracted start pose (rotated away from the tray), gripper open."""

    def __init__(self, spec: SceneSpec):
        self.spec = spec

    def reset(self) -> None:
        """Nothing to forget."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the zero-motion ee_delta action."""
        return np.array([0.0, 0.0, 0.0, 0.0, -1.0], dtype=np.float32)
