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


def test_gym_blowup_is_truncation_with_the_last_finite_observation(backend):
    import gymnasium as gym

    import robosynth  # noqa: F401

    env = gym.make("robosynth/Reach-v0", backend=backend).unwrapped
    env.reset(seed=0)
    last, reward, *_ = env.step(np.zeros(5, np.float32))
    _corrupt_target(env.sim.backend)
    obs, r, terminated, truncated, info = env.step(np.zeros(5, np.float32))
    env.close()
    assert truncated and not terminated and not info["is_success"] and info["failure_reason"]
    assert r == reward < 0  # dense reach reward: a blow-up never pays more than going on
    assert all(np.isfinite(v).all() for v in obs.values())
    assert all(np.array_equal(obs[k], last[k]) for k in obs)


def _corrupt_target(backend) -> None:
    """Make the next physics step of the reach scene blow up (non-finite arm velocity)."""
    if backend.name == "mujoco":
        backend.data.qvel[:7] = np.inf
    else:
        backend.client.resetJointState(backend.robot, backend._arm[0], 0.0, np.nan)
