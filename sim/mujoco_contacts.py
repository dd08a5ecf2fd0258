"""Contact forces of a MuJoCo world for all contacts at once (what ``mj_contactForce`` gives one contact at a time)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.types import Contact


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


def geom_body_names(mj: Any, model: Any) -> list[str]:
    """Return the contact name of each geom's body: the body's name, "floor" for the world's planes, else "world"."""
    names = [mj.mj_id2name(model, mj.mjtObj.mjOBJ_BODY, int(model.geom_bodyid[g])) or "world"
             for g in range(model.ngeom)]
    return ["floor" if n == "world" and model.geom_type[g] == mj.mjtGeom.mjGEOM_PLANE else n
            for g, n in enumerate(names)]


def contact_list(mj: Any, model: Any, data: Any, names: list[str]) -> list[Contact]:
    """Return all active contacts of ``data`` as Contacts between the bodies named per geom in ``names``, with the
    normal force ``mj_contactForce`` gives."""
    if data.ncon == 0:
        return []
    con = data.contact
    force = contact_normal_forces(data.efc_force, con.efc_address, con.dim,
                                  model.opt.cone == mj.mjtCone.mjCONE_PYRAMIDAL)
    rows = zip(con.geom1.tolist(), con.geom2.tolist(), con.pos.tolist(), force.tolist(), strict=True)
    return [Contact(names[a], names[b], (p[0], p[1], p[2]), f) for a, b, p, f in rows]


class TouchIndex:
    """Which bodies touch a given body, from the contact geom pairs alone (no forces, no Contact objects): the
    per-step grasp checks of the tasks need only that."""

    def __init__(self, names: list[str]):
        self._names = names
        self._geoms: dict[str, frozenset[int]] = {}

    def _geoms_of(self, body: str) -> frozenset[int]:
        geoms = self._geoms.get(body)
        if geoms is None:
            geoms = self._geoms[body] = frozenset(
                g for g, n in enumerate(self._names) if (n.startswith(body) if body.endswith("/") else n == body))
        return geoms

    def touching(self, data: Any, body: str) -> set[str]:
        """Return the names of the bodies in contact with ``body`` (a name ending in "/": any body it starts)."""
        if data.ncon == 0:
            return set()
        mine, names, out = self._geoms_of(body), self._names, set()
        for a, b in data.contact.geom.tolist():  # a few dozen contacts at most: a plain loop beats numpy here
            if a in mine:
                out.add(names[b])
            if b in mine:
                out.add(names[a])
        return out
