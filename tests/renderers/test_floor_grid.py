"""The `fast` preset tessellates the floor plane at FLOOR_GRID_LOD instead of FLOOR_GRID for drawing: segmentation
is the same, depth agrees within 10 um, and RGB differs only on floor pixels near the camera, by a few levels
(Gouraud-interpolated lighting), under a directional and a spot light. `default` and `high` keep the fine grid."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.sensors import VISUAL_DETAIL, SceneRenderer
from scenes.loader import load_scene
from scenes.runtime import Simulation
from sim.mujoco_backend import FLOOR_GRID, FLOOR_GRID_LOD

BUILTIN = load_scene("pick_place")
SPEC = BUILTIN.model_copy(update={"cameras": tuple(c.model_copy(update={"width": 96, "height": 72})
                                                   for c in BUILTIN.cameras)})
SPOT = SPEC.model_copy(update={"lights": (SPEC.lights[0].model_copy(
    update={"directional": False, "pos": (0.6, 0.3, 1.5), "dir": (0.0, 0.0, -1.0)}),)})
FLOOR_ID = 1  # the floor's instance id in segmentation


@pytest.mark.parametrize("spec", [SPEC, SPOT], ids=["directional", "spot"])
def test_the_fast_floor_grid_changes_only_near_floor_pixels_by_a_few_levels(spec):
    sim = Simulation(spec, "mujoco", None, VISUAL_DETAIL["fast"])
    sim.reset(np.random.default_rng(0))
    model = sim.backend.model
    floor = model.geom("floor").id
    assert model.geom_size[floor][2] == FLOOR_GRID_LOD
    frames = {}
    for grid in (FLOOR_GRID_LOD, FLOOR_GRID):  # the grid is baked into the GL context when it is created
        model.geom_size[floor][2] = grid
        renderer = SceneRenderer(sim.backend, spec, "fast")
        frames[grid] = renderer.render()
        renderer.close()
    sim.close()
    for cam, lod in frames[FLOOR_GRID_LOD].items():
        fine = frames[FLOOR_GRID][cam]
        np.testing.assert_array_equal(lod.segmentation, fine.segmentation)
        np.testing.assert_allclose(lod.depth, fine.depth, rtol=0, atol=1e-5)
        diff = np.abs(lod.rgb.astype(int) - fine.rgb.astype(int)).max(axis=-1)
        assert set(np.unique(lod.segmentation[diff > 0])) <= {FLOOR_ID}, cam
        print(f"{cam}: max {diff.max()}, mean {diff.mean():.3f}, {(diff > 0).mean():.1%} of pixels")
        assert diff.max() <= 16 and diff.mean() <= 1.0, (cam, diff.max(), diff.mean())


@pytest.mark.parametrize("quality", ["default", "high"])
def test_default_and_high_keep_the_fine_floor_grid(quality):
    sim = Simulation(SPEC, "mujoco", None, VISUAL_DETAIL[quality])
    assert sim.backend.model.geom_size[sim.backend.model.geom("floor").id][2] == FLOOR_GRID
    sim.close()
