"""The vectorised MuJoCo contact forces equal ``mj_contactForce``'s normal force, contact by contact, for both
friction cones, over a stacking episode (many changing contacts)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from scenes.loader import load_scene
from scenes.runtime import Simulation


@pytest.mark.parametrize("cone", ["pyramidal", "elliptic"])
def test_normal_forces_equal_mj_contact_force(cone):
    sim = Simulation(load_scene("stack"), "mujoco")
    backend = sim.backend
    backend.model.opt.cone = getattr(mujoco.mjtCone, f"mjCONE_{cone.upper()}")
    obs = sim.reset(np.random.default_rng(1))
    expert = sim.task.expert()
    checked, f6 = 0, np.zeros(6)
    for _ in range(60):
        r = sim.step(expert.act(obs))
        obs = r.obs
        contacts = backend.contacts()
        assert len(contacts) == backend.data.ncon
        for k, c in enumerate(contacts):
            mujoco.mj_contactForce(backend.model, backend.data, k, f6)
            assert c.normal_force == f6[0], (k, c, f6[0])
            checked += 1
        if r.terminated:
            break
    sim.close()
    assert checked > 50  # the episode had contacts to compare (cube on table, fingers on cube, cube on cube)
