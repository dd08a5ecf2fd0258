"""Built-in task ``pick_mesh``: the can out of a clutter of household meshes (assets/) into the bin.

The expert's rate is asserted on 4 seeds per engine here; the 20-seed figures are in docs/tasks.md."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import robosynth  # noqa: F401  (registers the gym ids)
from scenes.loader import load_scene, scene_from_dict
from scenes.runtime import Simulation, run_expert
from sim.errors import SceneError

SEEDS = range(4)


def test_the_scene_is_a_target_and_four_shipped_meshes_and_the_bin():
    spec = load_scene("pick_mesh")
    p = spec.task.params
    movers = [spec.object(n) for n in [p["target"], *p["clutter"]]]
    assert len(movers) >= 5 and all(o.shape == "mesh" and o.asset.startswith("objects/") for o in movers)
    assert spec.object(p["bin"]).asset == "bin/bin.urdf"
    assert spec.task.name == "pick_mesh"


def test_expert_puts_the_target_in_the_bin(backend):
    spec = load_scene("pick_mesh")
    sim = Simulation(spec, backend)
    successes = 0
    for seed in SEEDS:
        r = run_expert(sim, sim.reset(np.random.default_rng(seed)))
        successes += bool(r.info["success"])
        if r.info["success"]:  # resting in the bin, released
            pos, _ = sim.backend.body_pose("can")
            bin_pos, _ = sim.backend.body_pose("bin")
            assert np.all(np.abs(pos[:2] - bin_pos[:2]) < [0.14, 0.10]) and pos[2] < bin_pos[2] + 0.11
    sim.close()
    assert successes >= 3, f"{backend}: {successes}/{len(SEEDS)}"


def test_placement_keeps_the_clearances_and_is_seeded():
    spec = load_scene("pick_mesh")
    p = spec.task.params
    sim = Simulation(spec, "mujoco")
    names = [p["target"], *p["clutter"]]
    first = None
    for seed in range(8):
        sim.reset(np.random.default_rng(seed))
        xy = {n: sim.backend.body_pose(n)[0][:2] for n in names}
        first = first or xy
        for a, b in itertools.combinations(names, 2):
            gap = p["target_gap"] if p["target"] in (a, b) else p["gap"]
            assert np.linalg.norm(xy[a] - xy[b]) >= p["radii"][a] + p["radii"][b] + gap - 1e-9, (seed, a, b)
        (lo, hi) = np.asarray(p["clutter_region"])
        assert all(np.all(lo <= v) and np.all(v <= hi) for v in xy.values())
    sim.reset(np.random.default_rng(0))
    again = {n: sim.backend.body_pose(n)[0][:2] for n in names}
    sim.close()
    assert all(np.array_equal(first[n], again[n]) for n in names)


def test_sparse_reward_is_zero_exactly_on_success():
    spec = load_scene("pick_mesh")
    params = {**spec.task.params, "reward_type": "sparse"}
    spec = spec.model_copy(update={"task": spec.task.model_copy(update={"params": params})})
    sim = Simulation(spec, "mujoco")
    obs = sim.reset(np.random.default_rng(1))
    expert = sim.task.expert()
    for _ in range(spec.task.horizon):
        r = sim.step(expert.act(obs))
        obs = r.obs
        assert r.reward == (0.0 if r.info["success"] else -1.0)
        if r.terminated or r.truncated:
            break
    sim.close()
    assert r.info["success"]


def test_gym_env():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("robosynth/PickMesh-v0", backend="mujoco", obs_mode="state")
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["object"].shape == (13 + 3 * 4,) and env.observation_space.contains(obs)
    env.close()


@pytest.mark.parametrize(("change", "message"), [
    ({"clutter": ["cup", "teapot"]}, "task.params.clutter[1]: task pick_mesh needs an object named 'teapot'"),
    ({"teapot_region": [[0, 0], [1, 1]]}, "task.params.teapot_region: unknown field"),
    ({"cup_region": [[0, 0]]}, "cup_region: expected 2 corners"),
    ({"target": "bin"}, "objects[1].fixed: task pick_mesh needs object 'bin' (task.params.target) with fixed: false"),
])
def test_bad_parameters_are_one_line(change, message):
    spec = load_scene("pick_mesh")
    data = spec.model_dump(mode="json")
    data["task"]["params"].update(change)
    from scenes.loader import BUILTIN_DIR

    with pytest.raises(SceneError) as err:
        scene_from_dict(data, BUILTIN_DIR)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("backend_name", ["mujoco", "pybullet"])
def test_expert_succeeds_under_the_full_preset(backend_name):
    from randomization.apply import begin_episode
    from randomization.load import preset
    from randomization.params import sample_episode_params

    spec = load_scene("pick_mesh")
    cfg = preset("full", spec)
    sim = Simulation(spec, backend_name)
    successes = 0
    for index in range(3):
        params = sample_episode_params(cfg, spec, 0, index)
        obs, perturb, _ = begin_episode(sim, None, params, 0, index)
        expert = sim.task.expert()
        for _ in range(spec.task.horizon):
            r = sim.step(perturb.effective(expert.act(obs)))
            obs = r.obs
            if r.terminated or r.truncated:
                break
        successes += bool(r.info["success"])
    sim.close()
    assert successes >= 2, f"{backend_name}: {successes}/3"
