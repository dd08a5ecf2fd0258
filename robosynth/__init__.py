"""robosynth application layer: CLI, recording, HDF5 schema, Gymnasium environments.

Importing this package registers the Gymnasium ids (``robosynth/PickPlace-v0``); it starts no engine,
creates no GL context and sets no environment variable.
"""

from robosynth.gym_env import register_envs

register_envs()

__all__ = ["register_envs"]
