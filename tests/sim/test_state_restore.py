"""set_state(get_state()) mid-episode, then continuing, is bit-identical on both engines."""

from __future__ import annotations

import numpy as np

from scenes.loader import load_scene
from scenes.runtime import Simulation


def _rollout(sim: Simulation, expert, obs, n: int) -> np.ndarray:
    states = []
    for _ in range(n):
        r = sim.step(expert.act(obs))
        obs = r.obs
        states.append(sim.backend.get_state(exact=False))
    return np.array(states)


def test_state_roundtrip_bit_identical(backend):
    spec = load_scene("pick_place")
    sim = Simulation(spec, backend)
    obs = sim.reset(np.random.default_rng(3))
    expert = sim.task.expert()
    _rollout(sim, expert, obs, 25)  # mid-episode: gripper closing on the cube, contacts active
    saved = sim.backend.get_state()
    ctrl = (sim.controller.q_target.copy(), sim.controller.pos_target.copy(), sim.controller.yaw_target)
    phase = (expert.phase, expert.close_steps)
    obs = sim.observe()
    first = _rollout(sim, expert, obs, 15)

    sim.backend.set_state(saved)
    sim.controller.q_target, sim.controller.pos_target, sim.controller.yaw_target = (
        ctrl[0].copy(), ctrl[1].copy(), ctrl[2])
    expert.phase, expert.close_steps = phase
    obs = sim.observe()
    second = _rollout(sim, expert, obs, 15)
    sim.close()
    assert first.shape == second.shape and first.shape[0] == 15
    assert np.array_equal(first, second)
    assert not np.array_equal(first[0], first[-1])  # the world moved
