"""Built-in scene ``clutter``: random_urdfs objects dropped into a tray (perception data)."""

from __future__ import annotations

import numpy as np

from renderers.sensors import SceneRenderer
from scenes.loader import load_scene
from scenes.runtime import Simulation, run_expert


def test_clutter_settles_in_tray_and_is_segmented(backend):
    spec = load_scene("clutter")
    sim = Simulation(spec, backend)
    successes = 0
    for seed in range(20):
        obs = sim.reset(np.random.default_rng(seed))
        start = obs["object"].reshape(-1, 3)
        # objects start apart (no interpenetration at the drop)
        d = np.linalg.norm(start[:, None] - start[None], axis=2) + np.eye(len(start))
        assert d.min() >= sim.task.spacing - 1e-6
        r = run_expert(sim, obs)
        successes += bool(r.info["success"])
        # dense: minus the mean distance of the objects from the tray volume, 0 once all are inside
        assert r.reward <= 0.0 and (r.reward == 0.0 or not r.info["success"]), (r.reward, r.info)
    assert successes >= 18, f"{backend}: {successes}/20"
    # the settled pile is visible: most objects have their own instance in the top-down camera
    frame = SceneRenderer(sim.backend, spec, "fast").render(["topdown"])["topdown"]
    ids = SceneRenderer(sim.backend, spec, "fast").segmentation_ids
    objects = {i for i, v in ids.items() if v["class"] == "object"}
    seen = objects & set(np.unique(frame.segmentation).tolist())
    sim.close()
    assert len(seen) >= 6
