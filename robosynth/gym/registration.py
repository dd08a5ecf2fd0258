"""Gymnasium ids: one per built-in task scene, plus the generic ``robosynth/Scene-v0`` (``scene=`` a built-in
name or a YAML path). Registering is idempotent and starts no engine."""

from __future__ import annotations

import gymnasium as gym

from robosynth.generate.request import GENERIC_ENV_ID as GENERIC_ID
from scenes.tasks import registered_tasks

ENTRY_POINT = "robosynth.gym.env:RobosynthEnv"


def env_scenes() -> dict[str, str]:
    """Return {Gymnasium id: built-in scene} of every registered task that has both (the task registry)."""
    return {e.gym_id: e.scene for e in registered_tasks().values() if e.gym_id and e.scene}


def register_envs() -> None:
    """Register every built-in scene's id and the generic scene id with Gymnasium (idempotent)."""
    for env_id, scene in env_scenes().items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=ENTRY_POINT, kwargs={"scene": scene}, max_episode_steps=None)
    if GENERIC_ID not in gym.registry:
        gym.register(id=GENERIC_ID, entry_point=ENTRY_POINT, max_episode_steps=None)
