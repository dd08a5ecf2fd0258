"""Gymnasium environments: env_checker, determinism, vector envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robosynth  # noqa: F401  (registers the ids)


@pytest.mark.parametrize("obs_mode", ["state", "rgbd"])
def test_check_env(backend, obs_mode):
    env = gym.make("robosynth/PickPlace-v0", backend=backend, obs_mode=obs_mode, render_mode="rgb_array",
                   resolution=(32, 32))
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    if obs_mode == "rgbd":
        assert obs["agentview_image"].shape == (32, 32, 3)
        assert obs["agentview_depth"].dtype == np.float32
    frame = env.render()
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    env.close()


def test_seeded_episodes_do_not_depend_on_history(backend):
    env = gym.make("robosynth/PickPlace-v0", backend=backend).unwrapped
    actions = np.random.default_rng(0).uniform(-1, 1, (8, 5)).astype(np.float32)

    def rollout():
        obs, _ = env.reset(seed=42)
        traj = [obs["object"]]
        for a in actions:
            traj.append(env.step(a)[0]["object"])
        return np.array(traj)

    first = rollout()
    env.reset(seed=7)
    for _ in range(10):
        env.step(np.ones(5, np.float32))
    second = rollout()
    env.close()
    assert np.array_equal(first, second)


def test_async_vector_env():
    envs = gym.vector.AsyncVectorEnv(
        [lambda: gym.make("robosynth/PickPlace-v0", backend="mujoco") for _ in range(2)]
    )
    obs, _ = envs.reset(seed=[1, 2])
    assert obs["robot0_eef_pos"].shape == (2, 3)
    for _ in range(3):
        obs, rew, term, trunc, _ = envs.step(envs.action_space.sample())
    assert rew.shape == (2,) and np.isfinite(obs["object"]).all()
    # different seeds place the cube differently
    assert not np.allclose(obs["object"][0][:3], obs["object"][1][:3])
    envs.close()


def test_expert_solves_env_through_gym_api():
    env = gym.make("robosynth/PickPlace-v0", backend="mujoco").unwrapped
    obs, _ = env.reset(seed=3)
    expert = env.sim.task.expert()
    for _ in range(150):
        obs, rew, term, trunc, info = env.step(expert.act(obs))
        if term or trunc:
            break
    env.close()
    assert info["success"] and -0.1 < rew <= 0.0  # dense pick_place reward on success: -(d(ee, cube) + d(cube, target))


def test_obs_modes_compute_only_what_they_return(backend, tmp_path):
    rgbd = gym.make("robosynth/PickPlace-v0", backend=backend, obs_mode="rgbd", resolution=(32, 32)).unwrapped
    obs, _ = rgbd.reset(seed=0)
    assert "agentview_segmentation" not in obs
    assert rgbd.last_frames["agentview"].segmentation is None  # rgbd renders no segmentation at all
    rgbd.close()
    env = gym.make("robosynth/PickPlace-v0", backend=backend, obs_mode="rgbd_seg", resolution=(32, 32)).unwrapped
    check_env(env)
    obs, _ = env.reset(seed=0)
    seg = obs["agentview_segmentation"]
    assert seg.shape == (32, 32, 1) and seg.dtype == np.int32 and env.observation_space.contains(obs)
    ids = {int(i) for i in np.unique(seg)} - {0}
    names = {env._scene_renderer().segmentation_ids[i]["name"] for i in ids}
    assert {"table", "cube"} <= names
    env.close()


def test_record_episodes_keeps_segmentation_for_rgbd_envs(tmp_path):
    from robosynth.dataset import read_episode
    from robosynth.gym import RecordEpisodes

    env = RecordEpisodes(gym.make("robosynth/PickPlace-v0", obs_mode="rgbd", resolution=(32, 32)), tmp_path)
    obs, _ = env.reset(seed=1)
    assert "agentview_segmentation" not in obs
    for _ in range(3):
        env.step(env.action_space.sample())
    env.reset(seed=2)  # flushes the unfinished episode (recorded as failed)
    env.close()
    ep = read_episode(tmp_path / "episodes" / "ep_000000.hdf5")
    assert ep.obs["agentview_segmentation"].shape == (len(ep.actions), 32, 32, 1) == (3, 32, 32, 1)
    assert ep.obs["agentview_segmentation"].any()  # the table and the cube are in view
