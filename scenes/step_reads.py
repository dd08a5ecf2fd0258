"""One control step's reads of the engine, each made once: the observation, the success test and the reward all
ask for the same few body poses and joint positions after the physics step."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.backend import Backend


class StepReads:
    """A read-through view of a backend that remembers ``body_pose`` and ``joint_positions`` for one step.

    Build a new one after every change to the world (``Simulation.step`` makes one per control step, after the
    physics); every other attribute is the backend's own. Each call returns fresh arrays, as the backend's do, so a
    task (a user's too) may modify what it gets.
    """

    def __init__(self, backend: Backend):
        self._backend = backend
        self._poses: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._q: np.ndarray | None = None

    def body_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the backend's ``body_pose(name)``, read once per step."""
        pose = self._poses.get(name)
        if pose is None:
            pose = self._poses[name] = self._backend.body_pose(name)
        return pose[0].copy(), pose[1].copy()

    def joint_positions(self) -> np.ndarray:
        """Return the backend's ``joint_positions()``, read once per step."""
        if self._q is None:
            self._q = self._backend.joint_positions()
        return self._q.copy()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)
