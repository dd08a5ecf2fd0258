"""The backend registry's names, importable without numpy or an engine (the command line reads them before
anything heavy is imported; ``sim.backend`` re-exports them)."""

from __future__ import annotations

from collections.abc import Mapping

# The one table of backends: name -> "module:Class", imported only when a backend of that name is made.
BACKEND_ENTRY_POINTS: Mapping[str, str] = {
    "mujoco": "sim.mujoco_backend:MujocoBackend",
    "pybullet": "sim.pybullet_backend:PybulletBackend",
}
BACKEND_NAMES: tuple[str, ...] = tuple(BACKEND_ENTRY_POINTS)
BACKENDS = BACKEND_NAMES  # the name callers use (``x in BACKENDS``, ``", ".join(BACKENDS)``)
