"""Task open_drawer: the observation-only expert opens the drawer on both engines (also under the `full`
randomization preset), the observation layout, the gym id, and a recorded dataset keeps the cabinet's name."""

from __future__ import annotations

import json

import gymnasium as gym
import h5py
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robosynth  # noqa: F401  (registers the gym ids)
from randomization.load import load_scene_randomized
from randomization.params import sample_episode_params
from scenes.loader import load_scene
from scenes.runtime import Simulation, run_expert

SEEDS = range(10)  # 20 seeds measured 20/20 on each engine (docs/tasks.md)


def test_expert_opens_the_drawer(backend):
    sim = Simulation(load_scene("open_drawer"), backend)
    successes = 0
    for seed in SEEDS:
        r = run_expert(sim, sim.reset(np.random.default_rng(seed)))
        assert not r.info["failure_reason"], r.info
        successes += bool(r.info["success"])
    opening = sim.task.opening(sim.backend)[0]
    sim.close()
    assert successes / len(SEEDS) >= 0.9, f"{backend}: {successes}/{len(SEEDS)}"
    assert opening >= sim.task.p["open_threshold"]


def test_expert_opens_the_drawer_under_full_randomization(backend):
    from randomization.apply import begin_episode

    spec, config = load_scene_randomized("open_drawer", "full")
    sim = Simulation(spec, backend)
    successes = 0
    factors = []
    for episode in range(3):
        params = sample_episode_params(config, spec, dataset_seed=7, episode_index=episode)
        factors.append(params.physical["joint_dynamics_scale"]["cabinet"])
        obs, actions, _ = begin_episode(sim, None, params, 7, episode)
        damping, _ = sim.backend.object_joint_dynamics("cabinet")
        assert damping[0] == pytest.approx(2.0 * factors[-1]["damping"])
        expert = sim.task.expert()
        for _ in range(spec.task.horizon):
            r = sim.step(actions.effective(expert.act(obs)))
            obs = r.obs
            if r.terminated or r.truncated:
                break
        successes += bool(r.info["success"])
    sim.close()
    assert successes >= 2, successes
    assert all(0.7 <= f["damping"] <= 1.4 and 0.7 <= f["friction"] <= 1.4 for f in factors)
    assert len({f["damping"] for f in factors}) == 3


def test_object_observation_layout():
    sim = Simulation(load_scene("open_drawer"), "mujoco")
    obs = sim.reset(np.random.default_rng(0))
    o = obs["object"]
    handle, _ = sim.backend.body_pose("cabinet/handle")
    cabinet, _ = sim.backend.body_pose("cabinet")
    ee = obs["robot0_eef_pos"]
    sim.close()
    assert o.shape == (12,) and o.dtype == np.float32
    assert np.allclose(o[:3], handle, atol=1e-6) and np.allclose(o[7:10], handle - ee, atol=1e-5)
    assert o[10] == pytest.approx(0.0, abs=1e-6)  # closed at the start
    lo, hi = np.asarray(sim.task.p["cabinet_region"])
    assert np.all(cabinet[:2] >= lo - 1e-9) and np.all(cabinet[:2] <= hi + 1e-9)


def test_gym_env():
    env = gym.make("robosynth/OpenDrawer-v0", backend="pybullet", obs_mode="state")
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs) and obs["object"].shape == (12,)
    env.close()


def test_dataset_keeps_the_cabinet_and_its_joints(run_cli, tmp_path):
    out = tmp_path / "drawer"
    res = run_cli("generate", "open_drawer", "--backend", "mujoco", "--episodes", "1", "--cameras", "agentview",
                  "--resolution", "48x48", "--out", out)
    assert res.rc == 0, res.stderr
    assert run_cli("verify", out).rc == 0
    episode = next(out.rglob("*.hdf5"))
    with h5py.File(episode) as f:
        demo = f["data"][next(iter(f["data"]))]
        ids = {int(k): v["name"] for k, v in json.loads(demo.attrs["segmentation_ids"]).items()}
        seg = demo["obs/agentview_segmentation"][:]
        states = demo["states"][:]
        opening = demo["next_obs/object"][:, 10]  # after each step
    cabinet = next(i for i, name in ids.items() if name == "cabinet")
    assert (seg == cabinet).mean() > 0.02  # drawn, under its own name, in the recorded segmentation
    assert opening.max() >= 0.12 and states.shape[0] == opening.shape[0]
