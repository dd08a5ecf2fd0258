"""The pick_place scripted expert succeeds >= 90 % of 20 seeded episodes on each backend."""

from __future__ import annotations

import numpy as np

from scenes.loader import load_scene
from scenes.runtime import Simulation, run_expert

SEEDS = list(range(20))


def test_pick_place_expert_success_rate(backend):
    spec = load_scene("pick_place")
    sim = Simulation(spec, backend)
    successes = 0
    for seed in SEEDS:
        r = run_expert(sim, sim.reset(np.random.default_rng(seed)))
        successes += bool(r.info["success"])
    sim.close()
    assert successes / len(SEEDS) >= 0.9, f"{backend}: {successes}/{len(SEEDS)}"
