"""The shipped assets: every object loads on both engines, settles on a table without exploding and keeps its name
in the segmentation map; textures load; assets/make_assets.py rebuilds the committed files exactly."""

from __future__ import annotations

import runpy
from pathlib import Path

import cv2
import numpy as np
import pytest

from scenes.loader import scene_from_dict
from sim.assets import ASSETS_DIR
from sim.backend import make_backend

OBJECTS = sorted(p.stem for p in (ASSETS_DIR / "objects").glob("*.obj"))
TABLE_TOP = 0.4
SPOT = (0.5, -0.35)  # on the table, clear of the robot's arm at its start pose
TABLE = {"name": "table", "shape": "box", "size": [0.8, 1.2, TABLE_TOP], "pose": {"pos": [0.5, 0, TABLE_TOP / 2]},
         "fixed": True}


def test_at_least_twelve_objects_and_six_textures_with_licences():
    textures = sorted((ASSETS_DIR / "textures").glob("*.png"))
    assert len(OBJECTS) >= 12 and len(textures) >= 6
    licences = (ASSETS_DIR / "LICENSES.md").read_text()
    for name in OBJECTS:
        assert f"objects/{name}.obj" in licences
    for t in textures:
        img = cv2.imread(str(t))
        assert img is not None and img.shape == (256, 256, 3) and t.name in licences


def test_generator_rebuilds_the_committed_files(tmp_path, monkeypatch):
    mod = runpy.run_path(str(ASSETS_DIR / "make_assets.py"))
    for name, mesh in mod["OBJECTS"].items():
        mod["write_obj"](tmp_path / f"{name}.obj", mesh)
        assert (tmp_path / f"{name}.obj").read_bytes() == (ASSETS_DIR / "objects" / f"{name}.obj").read_bytes()
    for name, img in mod["textures"]().items():
        assert np.array_equal(cv2.imread(str(ASSETS_DIR / "textures" / f"{name}.png")), img), name


@pytest.mark.parametrize("name", OBJECTS)
def test_object_settles_on_a_table(backend, name):
    spec = scene_from_dict({"name": "settle", "task": {"name": "none"}, "objects": [
        TABLE, {"name": name, "shape": "mesh", "asset": f"objects/{name}.obj", "mass": 0.2,
                "pose": {"pos": [*SPOT, TABLE_TOP + 0.01]}, "semantic_class": name}]})
    world = make_backend(backend)
    world.build(spec, Path(ASSETS_DIR))
    world.reset()
    world.step(500)  # one second
    pos, _ = world.body_pose(name)
    names = {i.name for i in world.instances()}
    world.close()
    assert np.isfinite(pos).all()
    assert TABLE_TOP - 0.01 < pos[2] < TABLE_TOP + 0.2, pos  # resting on the table, not through it or flying
    assert np.linalg.norm(pos[:2] - SPOT) < 0.25, pos  # a tall one may tip over (<= its height), not fly off
    assert name in names


def test_generator_rebuilds_the_bin(tmp_path):
    mod = runpy.run_path(str(ASSETS_DIR / "make_assets.py"))
    for name, mesh in mod["bin_parts"]().items():
        mod["write_obj"](tmp_path / f"{name}.obj", mesh)
        assert (tmp_path / f"{name}.obj").read_bytes() == (ASSETS_DIR / "bin" / f"{name}.obj").read_bytes()
    assert mod["bin_urdf"](list(mod["bin_parts"]())) == (ASSETS_DIR / "bin" / "bin.urdf").read_text()


def test_an_object_dropped_into_the_bin_stays_inside(backend):
    spec = scene_from_dict({"name": "bin", "task": {"name": "none"}, "objects": [
        TABLE, {"name": "bin", "shape": "urdf", "asset": "bin/bin.urdf", "fixed": True, "semantic_class": "bin",
                "pose": {"pos": [*SPOT, TABLE_TOP]}},
        {"name": "can", "shape": "mesh", "asset": "objects/can.obj", "mass": 0.2,
         "pose": {"pos": [SPOT[0] + 0.02, SPOT[1] + 0.03, TABLE_TOP + 0.15]}}]})
    world = make_backend(backend)
    world.build(spec, Path(ASSETS_DIR))
    world.reset()
    world.step(750)  # 1.5 s
    pos, _ = world.body_pose("can")
    world.close()
    assert np.isfinite(pos).all()
    assert abs(pos[0] - SPOT[0]) < 0.15 and abs(pos[1] - SPOT[1]) < 0.11  # inside the 30 x 22 cm bin
    assert TABLE_TOP < pos[2] < TABLE_TOP + 0.12  # on the bin's floor, not through it
