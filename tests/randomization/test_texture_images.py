"""The shipped textures (assets/textures) in visual randomization: sampled per seed and recorded, painted on the
floor, tables and mesh objects on both engines, removed again by restore_nominal_params."""

from __future__ import annotations

import numpy as np
import pytest

from randomization.load import preset, validate_randomization
from randomization.params import sample_episode_params
from randomization.textures import SHIPPED_TEXTURES
from renderers.sensors import SceneRenderer
from scenes.loader import BUILTIN_DIR, load_scene
from sim.backend import make_backend
from sim.errors import SceneError
from sim.mujoco_textures import texture_image, texture_pattern

WOOD = {"kind": "image", "image": "textures/wood.png", "rgb1": [1.0, 1.0, 1.0], "rgb2": [0.0, 0.0, 0.0],
        "repeat": 1.0}


def test_the_visual_preset_puts_shipped_images_on_floor_tables_and_meshes_and_records_them():
    spec = load_scene("pick_mesh")
    cfg = preset("visual", spec)
    seen: set[str] = set()
    for index in range(12):
        p = sample_episode_params(cfg, spec, 7, index)
        assert p.to_dict() == sample_episode_params(cfg, spec, 7, index).to_dict()  # deterministic per seed
        textures = p.visual["textures"]
        for name in ("table", "can", "cup", "mug", "bottle", "jar"):
            assert textures[name]["kind"] == "image" and textures[name]["image"] in SHIPPED_TEXTURES
            seen.add(textures[name]["image"])
        assert textures["floor"]["kind"] in ("checker", "noise", "image")
    assert len(SHIPPED_TEXTURES) >= 6 and seen == set(SHIPPED_TEXTURES)  # every image gets used


def test_an_image_that_is_not_an_asset_is_refused():
    spec = load_scene("pick_mesh")
    bad = {"visual": {"objects": {"table": {"texture": {"kinds": ["image"], "images": ["textures/nope.png"]}}}}}
    with pytest.raises(SceneError, match=r"randomization\.visual\.objects\.table\.texture\.images\[0\]: asset "
                                         r"'textures/nope.png' not found"):
        validate_randomization(bad, spec)


def test_image_pattern_is_the_image():
    img = texture_pattern(WOOD, 64)
    assert img.shape == (64, 64, 3) and np.array_equal(img, texture_image("textures/wood.png", 64))
    assert img.std() > 5  # grain, not a flat colour
    assert texture_pattern({**WOOD, "kind": "gradient", "rgb1": [1, 0, 0], "rgb2": [0, 0, 1]}, 8)[0, 0, 0] == 255


@pytest.mark.parametrize("backend_name", ["mujoco", "pybullet"])
def test_images_render_on_table_floor_and_mesh_and_restore(backend_name):
    spec = load_scene("pick_mesh")
    world = make_backend(backend_name)
    world.build(spec, BUILTIN_DIR)
    renderer = SceneRenderer(world, spec, "fast")
    ids = {i.name: i.id for i in world.instances()}

    def pixels(name: str) -> np.ndarray:
        f = renderer.render(["agentview"])["agentview"]
        return f.rgb[f.segmentation == ids[name]].astype(float)

    plain = {n: pixels(n) for n in ("table", "can")}
    world.set_texture("table", WOOD)
    world.set_texture("can", {**WOOD, "image": "textures/checker.png"})
    world.set_texture("floor", {**WOOD, "image": "textures/tiles.png", "repeat": 2.0})
    textured = {n: pixels(n) for n in ("table", "can", "floor")}
    world.restore_nominal_params()
    back = {n: pixels(n) for n in ("table", "can")}
    world.close()
    for n in ("table", "can"):
        assert plain[n].std(axis=0).max() < textured[n].std(axis=0).max() - 5, n  # a pattern, not a flat colour
        assert np.allclose(back[n].mean(axis=0), plain[n].mean(axis=0), atol=2), n  # and gone again
    assert textured["floor"].std(axis=0).max() > 5  # tiles (white with grey grout)
