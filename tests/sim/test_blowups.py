"""Physics blow-ups end the episode as failed with a reason and never put bad numbers into a dataset."""

from __future__ import annotations

import numpy as np

from robosynth.dataset import canonical_record
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import load_scene
from scenes.runtime import Simulation


def _corrupt(backend) -> None:
    """Make the next physics step blow up (non-finite velocity of the cube)."""
    if backend.name == "mujoco":
        qa, da = backend._free_qadr["cube"]
        backend.data.qvel[da : da + 3] = np.inf
    else:
        uid, _ = backend._bodies["cube"]
        backend.client.resetBaseVelocity(uid, [np.nan, 0.0, 0.0], [0.0, 0.0, 0.0])


def test_simulation_reports_blowup(backend):
    sim = Simulation(load_scene("pick_place"), backend)
    sim.reset(np.random.default_rng(0))
    sim.step(np.zeros(5))
    _corrupt(sim.backend)
    r = sim.step(np.zeros(5))
    sim.close()
    assert r.terminated and not r.info["success"]
    assert r.info["failure_reason"].startswith(backend)


def test_recorded_episode_stops_before_the_blowup(backend, monkeypatch):
    runner = EpisodeRunner(load_scene("pick_place"), RecordingOptions(backend=backend, max_steps=20))
    params = runner.sample_params(0, 0)
    sim = runner._world_for(params)
    real_step = sim.step
    calls = {"n": 0}

    def step(action):
        calls["n"] += 1
        if calls["n"] == 6:
            _corrupt(sim.backend)
        return real_step(action)

    monkeypatch.setattr(sim, "step", step)
    res = runner.run(0, 0, params)
    runner.close()
    assert not res.success and res.failure_reason.startswith(backend)
    assert res.steps == 5  # the exploding step is not recorded
    rec = canonical_record(res.record)  # raises on NaN/inf or inconsistent shapes
    assert all(np.isfinite(v).all() for v in rec.obs.values()) and np.isfinite(rec.states).all()
