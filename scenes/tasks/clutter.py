"""Task ``clutter``: procedural objects dropped into a tray, for perception data.

Each episode the task drops every listed object from a random pose above the tray (drawn from the task
stream). Observation ``object`` (3N,): the N object positions. Success: every object rests (moved less
than ``settle_speed`` m in the last control step, after at least 10 steps) inside the tray's footprint and
below its rim. Reward: 1 on success, else 0.9 x the fraction of objects inside the tray. The scene starts the arm
rotated away from the tray (joint 1 = 1.3 rad) and the expert holds it there, gripper open.
"""

from __future__ import annotations

import numpy as np

from scenes.spec import SceneSpec
from sim.backend import Backend


def random_quat(rng: np.random.Generator) -> np.ndarray:
    """Return a uniformly random unit quaternion (w, x, y, z) with w >= 0."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q


class ClutterTask:
    """Drop objects into the tray and wait for them to settle."""

    name = "clutter"

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        p = spec.task.params
        self.objects = list(p["objects"])
        self.region = np.asarray(p["drop_region"], float)
        self.heights = tuple(p["drop_height"])
        self.center = np.asarray(p["tray_center"], float)
        self.half = float(p["tray_half_size"])
        self.top = float(p["tray_top"])
        self.settle = float(p.get("settle_speed", 0.002))
        self.spacing = float(p.get("spacing", 0.09))
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
        """Return 1 on success, else 0.9 x the fraction of objects inside the tray."""
        if self._succeeded:
            return 1.0
        return 0.9 * float(self._inside(self._positions(backend)).mean())

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
