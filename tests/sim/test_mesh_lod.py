"""Level of detail: the ``fast`` preset draws decimated robot meshes; physics is identical; results are cached."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.loader import load_scene
from scenes.runtime import Simulation
from sim import mesh_lod
from sim.assets import pybullet_data_dir


def faces(model) -> int:
    """Return the triangles of all meshes of a compiled MuJoCo model."""
    return int(sum(model.mesh_facenum))


def test_decimation_keeps_about_the_fraction_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path))
    data = (pybullet_data_dir() / "franka_panda" / "meshes" / "visual" / "link1.obj").read_bytes()
    _, full = mesh_lod.parse_obj(data)
    mesh_lod.reduced_obj.cache_clear()
    out = mesh_lod.reduced_obj(data)
    _, small = mesh_lod.parse_obj(out)
    assert 0.05 * len(full) < len(small) < 0.15 * len(full)
    cached = list((tmp_path / "lod").glob("*.obj"))
    assert len(cached) == 1 and cached[0].read_bytes() == out
    cached[0].write_bytes(b"")  # a torn cache file is recomputed, never used
    mesh_lod.reduced_obj.cache_clear()
    assert mesh_lod.reduced_obj(data) == out


def test_a_mesh_too_small_to_decimate_is_served_from_the_cache(tmp_path, monkeypatch):
    """A mesh below MIN_FACES is cached as it is and read back: not parsed again nor rewritten on every run."""
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path))
    data = b"# a comment first, as exporters write\n" + (
        pybullet_data_dir() / "franka_panda" / "meshes" / "visual" / "finger.obj").read_bytes()
    mesh_lod.reduced_obj.cache_clear()
    assert mesh_lod.reduced_obj(data) == data  # 624 faces: drawn as it is
    (cached,) = (tmp_path / "lod").glob("*.obj")
    stamp = cached.stat().st_mtime_ns
    mesh_lod.reduced_obj.cache_clear()
    monkeypatch.setattr(mesh_lod, "decimate_obj", lambda *_: pytest.fail("a cached mesh was decimated again"))
    assert mesh_lod.reduced_obj(data) == data
    assert cached.stat().st_mtime_ns == stamp and [p.name for p in (tmp_path / "lod").iterdir()] == [cached.name]


def test_small_meshes_are_kept():
    tri = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 1 4 2\nf 2 4 3\n"
    assert mesh_lod.decimate_obj(tri) == tri
    vertices, faces_ = mesh_lod.parse_obj(b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1/1/1 2/2/2 3/3/3 4/4/4\n")
    assert vertices.shape == (4, 3) and faces_.tolist() == [[0, 1, 2], [0, 2, 3]]


def test_reduced_visuals_leave_physics_bit_identical():
    spec = load_scene("pick_place")
    actions = np.random.default_rng(3).uniform(-1, 1, (30, 5))
    states, models = [], []
    for detail in (1.0, 0.1):
        sim = Simulation(spec, "mujoco", visual_detail=detail)
        sim.reset(np.random.default_rng(0))
        for a in actions:
            sim.step(a)
        states.append(sim.backend.get_state())
        models.append(faces(sim.backend.model))
        sim.close()
    assert np.array_equal(states[0], states[1])
    assert models[1] < 0.3 * models[0]  # the robot's 100k visual triangles are the bulk


@pytest.mark.parametrize(("quality", "lo", "hi"), [("fast", 10_000, 20_000), ("default", 20_000, 35_000),
                                                   ("high", 100_000, 110_000)])
def test_gym_env_picks_the_detail_of_its_quality(quality, lo, hi):
    import gymnasium as gym

    import robosynth  # noqa: F401

    env = gym.make("robosynth/PickPlace-v0", obs_mode="rgbd", quality=quality, resolution=(32, 32)).unwrapped
    assert lo < faces(env.sim.backend.model) < hi  # the robot's visual meshes: 105k faces in all
    env.close()
