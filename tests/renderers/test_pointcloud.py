"""Fused point clouds: every point back-projects a depth pixel of its camera, ids agree with segmentation,
N is exact, crops hold, seeded sampling is deterministic; the Gymnasium ``pointcloud`` mode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robosynth  # noqa: F401
from renderers.camera import project
from renderers.pointcloud import fuse_pointcloud
from sim.errors import InputError


@pytest.fixture(scope="module", params=["mujoco", "pybullet"])
def frames(request):
    env = gym.make("robosynth/PickPlace-v0", backend=request.param, obs_mode="rgbd_seg", resolution=(48, 40),
                   cameras=["agentview", "wrist"]).unwrapped
    env.reset(seed=2)
    for _ in range(3):
        env.step(np.zeros(5, np.float32))
    out = dict(env.last_frames)
    env.close()
    return out


def test_points_backproject_recorded_depth_pixels(frames):
    cloud = fuse_pointcloud(frames, 2000, np.random.default_rng(0))
    assert cloud.xyz.shape == (2000, 3) and cloud.xyz.dtype == np.float32 and cloud.valid.all()
    assert cloud.cameras == ("agentview", "wrist")
    for k, name in enumerate(cloud.cameras):
        f = frames[name]
        sel = cloud.source[:, 0] == k
        assert sel.any()
        v, u = cloud.source[sel, 1], cloud.source[sel, 2]
        uv, z = project(cloud.xyz[sel].astype(np.float64), f.intrinsics.K, f.T_world_cam)
        assert np.abs(uv[:, 0] - u).max() < 1e-2 and np.abs(uv[:, 1] - v).max() < 1e-2
        assert np.abs(z - f.depth[v, u]).max() < 1e-4  # float32 storage of world xyz
        assert np.array_equal(cloud.ids[sel], f.segmentation[v, u])
        assert np.array_equal(cloud.rgb[sel], f.rgb[v, u])
        assert (f.depth[v, u] > 0).all() and (f.depth[v, u] < f.intrinsics.far * (1 - 1e-5)).all()


def test_sampling_is_seeded_and_crops_hold(frames):
    a = fuse_pointcloud(frames, 500, np.random.default_rng(7))
    b = fuse_pointcloud(frames, 500, np.random.default_rng(7))
    assert np.array_equal(a.xyz, b.xyz) and np.array_equal(a.source, b.source)
    low, high = (0.3, -0.3, 0.39), (0.7, 0.3, 0.8)
    c = fuse_pointcloud(frames, 300, np.random.default_rng(1), crop=(low, high))
    assert ((c.xyz >= np.float32(low) - 1e-6) & (c.xyz <= np.float32(high) + 1e-6)).all()
    tiny = fuse_pointcloud(frames, 50, np.random.default_rng(1), crop=((0.5, 0.0, 5.0), (0.6, 0.1, 6.0)))
    assert tiny.xyz.shape == (50, 3) and not tiny.valid.any()  # nothing in the box: padding, flagged invalid
    with pytest.raises(InputError):
        fuse_pointcloud(frames, 0, np.random.default_rng(0))


@pytest.mark.parametrize("backend", ["mujoco", "pybullet"])
def test_gym_pointcloud_mode(backend):
    env = gym.make("robosynth/PickPlace-v0", backend=backend, obs_mode="pointcloud", pointcloud_points=256,
                   pointcloud_crop=True, resolution=(48, 40)).unwrapped
    check_env(env)
    obs, _ = env.reset(seed=5)
    again, _ = env.reset(seed=5)
    assert obs["pointcloud"].shape == (256, 3) and obs["pointcloud_seg"].shape == (256, 1)
    assert np.array_equal(obs["pointcloud"], again["pointcloud"])  # same seed, same cloud
    names = {env._scene_renderer().segmentation_ids[int(i)]["name"] for i in np.unique(obs["pointcloud_seg"]) if i}
    assert "cube" in names or "table" in names
    env.close()
