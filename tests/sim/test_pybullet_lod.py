"""PyBullet level of detail: the ``fast`` preset draws decimated, colour-baked Panda visuals; physics is identical.

Tolerances measured on the pick_place scene, a 128x128 camera framing the whole arm, three frames (see
docs/sensors.md): mean absolute RGB difference over the robot's pixels 4.5-4.8 (the shading of coarser surfaces;
the colours are baked from the same atlas), robot-mask IoU 0.988-0.992, mean robot colour within 0.6.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from renderers.sensors import SceneRenderer
from scenes.loader import load_scene
from scenes.runtime import Simulation
from sim import pybullet_lod
from sim.assets import pybullet_data_dir

RGB_TOLERANCE = 8.0  # mean |RGB difference| over robot pixels (measured 4.5-4.8)
IOU_TOLERANCE = 0.97  # robot mask IoU (measured 0.988-0.992)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private cache for the module, holding the fast preset's URDF once built."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROBOSYNTH_CACHE_DIR", str(root))
        yield root


def _triangles(path: Path) -> int:
    return sum(1 for ln in path.read_bytes().splitlines() if ln.startswith(b"f "))


def _strip(element: ET.Element) -> str:
    """Return an element's XML with mesh filenames reduced to their pybullet_data-relative form."""
    root = str(pybullet_data_dir() / "franka_panda") + "/"
    return ET.tostring(element).decode().replace(root, "package://")


def test_urdf_changes_only_the_visual_meshes(cache: Path) -> None:
    source = pybullet_data_dir() / "franka_panda" / "panda.urdf"
    lod = pybullet_lod.panda_urdf(0.1)
    assert lod != source and lod.is_relative_to(cache)
    full, small = ET.parse(source).getroot(), ET.parse(lod).getroot()
    for a, b in zip(full.iter("link"), small.iter("link"), strict=True):
        for tag in ("inertial", "collision"):
            assert [_strip(e) for e in a.iter(tag)] == [_strip(e) for e in b.iter(tag)]
    assert [_strip(j) for j in full.iter("joint")] == [_strip(j) for j in small.iter("joint")]
    before = after = 0
    for a, b in zip(full.iter("visual"), small.iter("visual"), strict=True):
        name_a, name_b = (v.find("geometry/mesh").get("filename") for v in (a, b))
        if "/visual/" in name_a:
            assert Path(name_b).parent == lod.parent and Path(name_b).is_file()
            before += _triangles(source.parent / name_a.removeprefix("package://"))
            after += _triangles(Path(name_b))
    assert 0.1 * before < after < 0.2 * before  # 102k -> 16k triangles (the hand keeps 30 %)


def test_cache_is_reused_and_keyed_by_fraction(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = pybullet_lod.panda_urdf(0.1)
    monkeypatch.setattr(pybullet_lod, "lod_obj", lambda *a: pytest.fail("rebuilt a cached URDF"))
    assert pybullet_lod.panda_urdf(0.1) == first
    monkeypatch.undo()
    (first.parent / "link3.obj").unlink()  # an incomplete cache folder is rebuilt
    assert pybullet_lod.panda_urdf(0.1) == first and (first.parent / "link3.obj").is_file()
    assert pybullet_lod.panda_urdf(0.05).parent != first.parent


def test_default_and_high_draw_the_full_meshes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = pybullet_data_dir() / "franka_panda" / "panda.urdf"
    assert pybullet_lod.panda_urdf(1.0) == full and pybullet_lod.panda_urdf(0.25) == full
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(blocker))  # an unwritable cache: the full meshes
    assert pybullet_lod.panda_urdf(0.1) == full


def test_face_colours_come_from_the_atlas_at_their_uvs() -> None:
    texture = np.zeros((4, 4, 3), np.uint8)
    texture[:2] = (200, 10, 10)  # the top half red (v > 0.5), the bottom half blue
    texture[2:] = (10, 10, 200)
    obj = (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0.1 0.9\nvt 0.2 0.9\nvt 0.1 0.1\nvt 0.2 0.1\nusemtl a\n"
           b"f 1/1 2/2 3/1\nusemtl b\nf 1/3 2/4 3/3\n")
    mesh = pybullet_lod.parse_textured_obj(obj)
    assert mesh.names == ["a", "b"] and mesh.material.tolist() == [0, 1]
    colours = pybullet_lod.bake_face_colours(mesh.uvs, mesh.face_uv, texture)
    assert colours.tolist() == [[200, 10, 10], [10, 10, 200]]
    _, _, palette = pybullet_lod.lod_obj(obj, texture, 0.1, "x")
    assert palette.tolist() == [[200, 10, 10], [10, 10, 200]]


def _run(detail: float, steps: int = 24) -> tuple[list[np.ndarray], list[dict]]:
    """Return (the state after every step, frames every 8 steps) of pick_place on PyBullet with fixed actions."""
    spec = load_scene("pick_place")
    sim = Simulation(spec, "pybullet", visual_detail=detail)
    try:
        sim.reset(np.random.default_rng(0))
        renderer = SceneRenderer(sim.backend, spec, "fast")
        renderer.set_camera("agentview", pos=(1.0, 0.9, 0.9), look_at=(0.1, 0.0, 0.45), fovy=55.0)
        robot = [i for i, m in renderer.segmentation_ids.items() if m["class"] == "robot"]
        frames, states = [], []
        for k, action in enumerate(np.random.default_rng(3).uniform(-1, 1, (steps, sim.controller.action_dim))):
            sim.step(action)
            states.append(sim.backend.get_state(exact=False))
            if k % 8 == 7:
                f = renderer.render(["agentview"])["agentview"]
                frames.append({"rgb": f.rgb, "depth": f.depth, "seg": f.segmentation,
                               "robot": np.isin(f.segmentation, robot)})
        return states, frames
    finally:
        sim.close()


@pytest.fixture(scope="module")
def runs(cache: Path) -> dict[float, tuple[list[np.ndarray], list[dict]]]:
    return {detail: _run(detail) for detail in (1.0, 0.1)}


def test_physics_is_identical_with_and_without_the_lod(runs) -> None:
    full, small = runs[1.0][0], runs[0.1][0]
    assert not np.array_equal(full[0], full[-1])  # the arm moved
    for a, b in zip(full, small, strict=True):  # joint positions, velocities and object poses at every step
        np.testing.assert_array_equal(a, b)


def test_decimated_robot_looks_like_the_full_one(runs) -> None:
    for full, small in zip(runs[1.0][1], runs[0.1][1], strict=True):
        a, b = full["robot"], small["robot"]
        assert a.sum() > 500  # the camera frames the arm
        assert (a & b).sum() / (a | b).sum() > IOU_TOLERANCE
        both = a & b
        diff = np.abs(full["rgb"].astype(int) - small["rgb"].astype(int))[both]
        assert diff.mean() < RGB_TOLERANCE
        assert np.abs(full["rgb"][a].mean(0) - small["rgb"][b].mean(0)).max() < 3.0  # same colours overall
        np.testing.assert_array_equal(full["seg"][~(a | b)], small["seg"][~(a | b)])


def test_decimated_frames_are_deterministic(runs) -> None:
    again = _run(0.1)
    for x, y in zip(runs[0.1][1], again[1], strict=True):
        for key in ("rgb", "depth", "seg"):
            np.testing.assert_array_equal(x[key], y[key])


def test_gym_fast_preset_loads_the_lod_on_pybullet(cache: Path) -> None:
    import gymnasium as gym

    import robosynth  # noqa: F401

    for quality, lod in (("fast", True), ("default", False)):
        env = gym.make("robosynth/PickPlace-v0", backend="pybullet", obs_mode="rgbd", quality=quality,
                       resolution=(32, 32)).unwrapped
        assert env.sim.backend._robot_urdf.is_relative_to(cache) is lod
        env.close()
