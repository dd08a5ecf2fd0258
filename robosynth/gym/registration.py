"""Gymnasium ids: one per built-in task scene, plus the generic ``robosynth/Scene-v0`` (``scene=`` a built-in
name or a YAML path). Registering is idempotent and starts no engine."""

from __future__ import annotations

import gymnasium as gym

ENTRY_POINT = "robosynth.gym.env:RobosynthEnv"
GENERIC_ID = "robosynth/Scene-v0"
ENV_SCENES = {
    "robosynth/Clutter-v0": "clutter",
    "robosynth/PickPlace-v0": "pick_place",
    "robosynth/Reach-v0": "reach",
    "robosynth/Push-v0": "push",
    "robosynth/Stack-v0": "stack",
}


def register_envs() -> None:
    """Register every built-in scene's id and the generic scene id with Gymnasium (idempotent)."""
    for env_id, scene in ENV_SCENES.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=ENTRY_POINT, kwargs={"scene": scene}, max_episode_steps=None)
    if GENERIC_ID not in gym.registry:
        gym.register(id=GENERIC_ID, entry_point=ENTRY_POINT, max_episode_steps=None)
