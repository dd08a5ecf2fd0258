"""GLB / glTF mesh objects: converted once (cached by content) to an OBJ and its texture, drawn textured on both
engines; broken glTF files are refused at validation with one line."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import sim.mesh_formats as mf
from renderers.sensors import SceneRenderer
from scenes.loader import scene_from_dict
from sim.backend import make_backend

trimesh = pytest.importorskip("trimesh")
RED, BLUE = (230, 20, 20), (20, 20, 230)


def textured_box_glb(path: Path, size: float = 0.06) -> Path:
    """Write a GLB box whose base-colour texture is red on its -x half and blue on its +x half."""
    from PIL import Image

    box = trimesh.creation.box((size, size, size))
    box = box.subdivide().subdivide()  # vertices in the middle, so each half of the top is one colour
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, :32], img[:, 32:] = RED, BLUE
    x = box.vertices[:, 0]
    uv = np.c_[np.where(x < -1e-9, 0.1, np.where(x > 1e-9, 0.9, 0.5)), np.full(len(x), 0.5)]
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(img))
    box.export(str(path))
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path / "cache"))
    mf._convert_cached.cache_clear()
    yield tmp_path / "cache" / "gltf"
    mf._convert_cached.cache_clear()


def test_conversion_is_cached_with_its_texture(tmp_path, cache):
    glb = textured_box_glb(tmp_path / "box.glb")
    first = mf.convert_gltf(glb)
    assert first.obj.parent == cache and first.texture is not None and first.texture.is_file()
    text = first.obj.read_text()
    assert "\nvt " in text and "/" in text.splitlines()[-1]  # texture coordinates on every face
    mtime = first.obj.stat().st_mtime_ns
    mf._convert_cached.cache_clear()
    assert mf.convert_gltf(glb) == first and first.obj.stat().st_mtime_ns == mtime
    untextured = tmp_path / "plain.glb"
    trimesh.creation.box((0.05, 0.05, 0.05)).export(str(untextured))
    assert mf.convert_gltf(untextured).texture is None


@pytest.mark.parametrize("backend_name", ["mujoco", "pybullet"])
def test_a_textured_glb_renders_its_texture(tmp_path, cache, backend_name):
    textured_box_glb(tmp_path / "box.glb")
    spec = scene_from_dict({
        "name": "glb", "task": {"name": "none"}, "floor": True,
        "cameras": [{"name": "top", "pos": [0.6, 0.45, 0.5], "look_at": [0.6, 0.45, 0.0], "up": [0, 1, 0],
                     "width": 96, "height": 96, "fovy": 20}],
        "objects": [{"name": "box", "shape": "mesh", "asset": "box.glb", "mass": 0.2, "rgba": [0.1, 0.8, 0.1, 1],
                     "pose": {"pos": [0.6, 0.45, 0.03]}, "semantic_class": "box"}]}, tmp_path)
    world = make_backend(backend_name)
    world.build(spec, tmp_path)
    frame = SceneRenderer(world, spec, "fast").render(["top"])["top"]
    box_id = next(i.id for i in world.instances() if i.name == "box")
    world.close()
    assert frame.rgb is not None and frame.segmentation is not None
    pix = frame.rgb[frame.segmentation == box_id].astype(int)
    assert len(pix) > 200
    red = (pix[:, 0] > pix[:, 2] + 60) & (pix[:, 0] > pix[:, 1] + 60)
    blue = (pix[:, 2] > pix[:, 0] + 60) & (pix[:, 2] > pix[:, 1] + 60)
    green = (pix[:, 1] > pix[:, 0] + 60) & (pix[:, 1] > pix[:, 2] + 60)
    assert red.mean() > 0.2 and blue.mean() > 0.2, (red.mean(), blue.mean())  # the texture, both halves
    assert green.mean() < 0.05  # not the scene's flat colour


def _glb(path: Path, vertices: np.ndarray, faces: np.ndarray) -> str:
    trimesh.Trimesh(vertices, faces, process=False).export(str(path))
    return path.name


TETRA = (np.array([[0, 0, 0], [0.05, 0, 0], [0, 0.05, 0], [0, 0, 0.05]], float),
         np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]))


@pytest.mark.parametrize(("case", "message"), [
    ("huge", "its size after scale 1 is 50 m"),
    ("nan", "NaN or inf"),
    ("empty_scene", "empty mesh (0 vertices"),
])
def test_bad_glb_files_exit_2_with_one_line(run_cli, tmp_path, case, message):
    from tests.scenes.test_user_meshes import write_scene

    if case == "huge":
        name = _glb(tmp_path / "w.glb", TETRA[0] * 1000, TETRA[1])
    elif case == "nan":
        v = TETRA[0].copy()
        v[3, 2] = np.nan
        name = _glb(tmp_path / "w.glb", v, TETRA[1])
    else:  # a valid GLB whose scene holds no mesh
        doc = b'{"asset":{"version":"2.0"},"scenes":[{"nodes":[]}],"scene":0}  '
        (tmp_path / "w.glb").write_bytes(b"glTF" + struct.pack("<II", 2, 20 + len(doc))
                                         + struct.pack("<I", len(doc)) + b"JSON" + doc)
        name = "w.glb"
    res = run_cli("validate", write_scene(tmp_path, name))
    assert res.rc == 2 and len(res.stderr_lines) == 1, res.stderr
    assert "objects[1].asset:" in res.stderr and message in res.stderr, res.stderr
