"""RecordEpisodes writes any policy's episodes in the same verified HDF5 format."""

from __future__ import annotations

import gymnasium as gym
import h5py
import numpy as np
import pytest

import robosynth  # noqa: F401
from robosynth.dataset import read_episode, verify_path
from robosynth.gym import RecordEpisodes


@pytest.mark.parametrize("backend,obs_mode", [("mujoco", "rgbd"), ("pybullet", "state")])
def test_random_policy_episodes_are_recorded(tmp_path, backend, obs_mode):
    env = RecordEpisodes(gym.make("robosynth/PickPlace-v0", backend=backend, obs_mode=obs_mode,
                                  resolution=(32, 32), max_episode_steps=6), tmp_path / "ds")
    for ep in range(2):
        env.reset(seed=ep)
        done = False
        while not done:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            done = term or trunc
    env.close()
    assert verify_path(tmp_path / "ds") == []
    rec = read_episode(tmp_path / "ds" / "episodes" / "ep_000001.hdf5")
    assert rec.num_steps == 6 and rec.actions.shape == (6, 5) and rec.backend == backend
    assert np.array_equal(rec.next_obs_lowdim["object"][:-1], rec.obs["object"][1:])
    if obs_mode == "rgbd":
        assert rec.obs["agentview_image"].shape == (6, 32, 32, 3)
    with h5py.File(tmp_path / "ds" / "dataset.hdf5", "r", swmr=True, libver="latest") as f:
        assert sorted(f["data"]) == ["demo_0", "demo_1"]
