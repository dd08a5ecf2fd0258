"""``Backend.touching`` (the tasks' per-step grasp checks) names exactly the bodies that ``contacts()`` pairs with
the queried body, on both engines, over expert episodes whose grasps make and break contacts."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.loader import load_scene
from scenes.runtime import Simulation


def _from_contacts(contacts, body: str) -> set[str]:
    def match(name: str) -> bool:
        return name.startswith(body) if body.endswith("/") else name == body

    return {c.body_b for c in contacts if match(c.body_a)} | {c.body_a for c in contacts if match(c.body_b)}


@pytest.mark.parametrize(("scene", "bodies", "steps"), [
    ("pick_place", ("cube", "table", "panda_leftfinger", "floor", "nothing_by_that_name"), 60),
    ("open_drawer", ("cabinet/", "cabinet", "cabinet/handle"), 70),
])
def test_touching_equals_contacts(backend, scene, bodies, steps):
    sim = Simulation(load_scene(scene), backend)
    obs = sim.reset(np.random.default_rng(0))
    expert = sim.task.expert()
    grasped = False
    for _ in range(steps):
        result = sim.step(expert.act(obs))
        obs = result.obs
        contacts = sim.backend.contacts()
        for body in bodies:
            got = sim.backend.touching(body)
            assert got == _from_contacts(contacts, body), (body, got)
            grasped |= body == bodies[0] and {"panda_leftfinger", "panda_rightfinger"} <= got
        if result.terminated:
            break
    sim.close()
    assert grasped  # the episode really grasped: at some step both fingers touched the cube / the drawer's links
