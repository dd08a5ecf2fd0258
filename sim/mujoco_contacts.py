"""Contact forces of a MuJoCo world for all contacts at once (what ``mj_contactForce`` gives one contact at a time)."""

from __future__ import annotations

import numpy as np


def contact_normal_forces(efc_force: np.ndarray, address: np.ndarray, dim: np.ndarray, pyramidal: bool
                          ) -> np.ndarray:
    """Return each contact's normal force from the constraint forces, as ``mj_contactForce`` decodes it, for all
    contacts at once: a pyramidal contact's normal force is the sum of its 2 (dim - 1) edge forces (its one force when
    frictionless), an elliptic one's is its first row; a contact without constraint rows (address -1) has none."""
    count = np.where(dim > 1, 2 * (dim - 1), 1) if pyramidal else np.ones_like(dim)
    rows = address[:, None] + np.arange(int(count.max()))[None, :]
    used = (np.arange(rows.shape[1])[None, :] < count[:, None]) & (address[:, None] >= 0)
    values = np.where(used, efc_force[np.where(used, rows, 0)], 0.0)
    total = values[:, 0].copy()
    for j in range(1, values.shape[1]):  # left to right, as MuJoCo adds them
        total += values[:, j]
    return total
