"""robosynth application layer: ``dataset`` (HDF5 schema and I/O), ``generate`` (recording), ``gym``, ``report``,
``viz`` (previews), ``replay`` and ``cli``.

Importing this package registers the Gymnasium ids (``robosynth/PickPlace-v0``); it starts no engine,
creates no GL context and sets no environment variable.
"""

from robosynth.gym.registration import register_envs

register_envs()

__all__ = ["register_envs"]
