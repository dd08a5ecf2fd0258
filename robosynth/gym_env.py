"""Deprecated alias of :mod:`robosynth.gym.env` (kept for one release): import from ``robosynth.gym``."""

import warnings

from robosynth.gym.env import RobosynthEnv
from robosynth.gym.registration import env_scenes, register_envs

warnings.warn("robosynth.gym_env is deprecated; import from robosynth.gym", DeprecationWarning, stacklevel=2)

ENV_SCENES = env_scenes()

__all__ = ["ENV_SCENES", "RobosynthEnv", "register_envs"]
