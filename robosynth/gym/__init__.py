"""robosynth scenes as Gymnasium environments: ``env`` (RobosynthEnv), ``record`` (RecordEpisodes: any
policy's episodes into a robosynth dataset) and ``registration`` (the ids)."""

from robosynth.gym.env import RobosynthEnv
from robosynth.gym.record import RecordEpisodes
from robosynth.gym.registration import GENERIC_ID, register_envs

__all__ = ["GENERIC_ID", "RecordEpisodes", "RobosynthEnv", "register_envs"]
