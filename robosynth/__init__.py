"""robosynth application layer: ``dataset`` (HDF5 schema and I/O), ``generate`` (recording), ``gym``, ``report``,
``viz`` (previews), ``replay`` and ``cli``.

Importing this package registers the Gymnasium ids (``robosynth/PickPlace-v0``): at once when Gymnasium is
already imported, else the moment it is (:mod:`robosynth.gym_ids`), so a process that never uses Gymnasium
does not pay for its import. It starts no engine, creates no GL context and sets no environment variable.
"""

from robosynth.gym_ids import register_envs_when_gymnasium_loads

register_envs_when_gymnasium_loads()


def register_envs() -> None:
    """Register every built-in scene's Gymnasium id and the generic scene id (imports Gymnasium; idempotent)."""
    from robosynth.gym.registration import register_envs as register

    register()


__all__ = ["register_envs"]
