"""Engine cameras against the analytic pinhole model: tiny MuJoCo and PyBullet scenes built directly."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import mujoco
import numpy as np
import pybullet
import pytest
from pybullet_utils.bullet_client import BulletClient

from renderers import camera as C
from renderers import engine_cameras as E
from renderers.distortion import distort_images, source_intrinsics
from renderers.mujoco_render import QUALITY_PRESETS, MujocoCameraRenderer, apply_quality
from renderers.pybullet_render import render_pybullet
from sim.errors import InputError

HALF = 0.04  # box half size (m)
BOX_POS = np.array([0.03, -0.02, HALF])
TOP_CENTRE = BOX_POS + [0, 0, HALF]
OBLIQUE = C.look_at([0.35, -0.25, 0.55], [0.0, 0.0, 0.02])
DOWN = C.look_at([BOX_POS[0], BOX_POS[1], 0.6], [BOX_POS[0], BOX_POS[1], 0.0])

CASES = {
    "fovy_square": C.Intrinsics.from_fovy(50.0, 64, 64, near=0.05, far=3.0),
    "fovy_wide": C.Intrinsics.from_fovy(45.0, 96, 56, near=0.05, far=3.0),
    "offcentre_K": C.Intrinsics.from_K([[70.0, 0, 30.2], [0, 64.0, 31.7], [0, 0, 1]], 72, 52, near=0.05, far=3.0),
}


# ------------------------------------------------------------------------------------------- scenes


def mujoco_scene(intr: C.Intrinsics, T_world_cam: np.ndarray, free: bool = False):
    """Return (model, data, box geom id) of a ground plane, a box and one camera named 'cam'."""
    spec = mujoco.MjSpec()
    spec.worldbody.add_light(pos=[0, 0, 2], dir=[0, 0, -1])
    spec.worldbody.add_geom(name="ground", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[2, 2, 0.1])
    body = spec.worldbody.add_body(name="box", pos=BOX_POS.tolist())
    if free:
        body.add_freejoint()
    body.add_geom(name="box", type=mujoco.mjtGeom.mjGEOM_BOX, size=[HALF] * 3, rgba=[1, 0, 0, 1])
    E.configure_mujoco_camera(spec.worldbody.add_camera(name="cam"), intr, T_world_cam)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data, mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "box")


def render_mujoco(intr: C.Intrinsics, T_world_cam: np.ndarray) -> tuple[dict, int]:
    model, data, box = mujoco_scene(intr, T_world_cam)
    with MujocoCameraRenderer(model, intr.width, intr.height, "fast") as r:
        out = r.render(data, "cam", clip=(intr.near, intr.far))
    return out, box


@pytest.fixture(scope="module")
def bullet():
    """Return (client, box uid) of a ground slab and the same box in a DIRECT PyBullet client."""
    client = BulletClient(connection_mode=pybullet.DIRECT)
    ground = [2.0, 2.0, 0.01]
    client.createMultiBody(
        0, client.createCollisionShape(pybullet.GEOM_BOX, halfExtents=ground),
        client.createVisualShape(pybullet.GEOM_BOX, halfExtents=ground), basePosition=[0, 0, -0.01],
    )
    box = client.createMultiBody(
        0.1, client.createCollisionShape(pybullet.GEOM_BOX, halfExtents=[HALF] * 3),
        client.createVisualShape(pybullet.GEOM_BOX, halfExtents=[HALF] * 3, rgbaColor=[1, 0, 0, 1]),
        basePosition=BOX_POS.tolist(),
    )
    yield client, box
    client.disconnect()


def box_mask(out: dict, box: int) -> np.ndarray:
    if "seg_geom" in out:
        return out["seg_geom"] == box
    return (out["seg_body"] == box) & (out["seg_link"] == -1)


def analytic_mask(intr: C.Intrinsics, T_world_cam: np.ndarray) -> np.ndarray:
    """Return the pixels whose centres fall inside the projected silhouette (convex hull of the corners)."""
    corners = BOX_POS + HALF * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
    uv, _ = C.project(corners, intr.K, T_world_cam)
    hull = cv2.convexHull(uv.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    v, u = np.mgrid[0 : intr.height, 0 : intr.width].astype(np.float64)
    crosses = [
        (b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0])
        for a, b in zip(hull, np.roll(hull, -1, axis=0), strict=True)
    ]
    return np.all(np.array(crosses) >= 0, axis=0) | np.all(np.array(crosses) <= 0, axis=0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def centroid(mask: np.ndarray) -> np.ndarray:
    v, u = np.nonzero(mask)
    return np.array([u.mean(), v.mean()])


# ------------------------------------------------------------------------------------------- (a) metric depth


def test_mujoco_plane_depth_is_metric_z():
    intr = C.Intrinsics.from_fovy(60.0, 48, 40, near=0.05, far=3.0)
    T = C.look_at([0.6, 0.6, 0.7], [0.6, 0.6, 0.0])  # looks down at empty ground: z-depth is 0.7 everywhere
    out, _ = render_mujoco(intr, T)
    assert out["depth"].dtype == np.float32 and out["depth"].shape == (40, 48)
    assert abs(out["depth"][20, 24] - 0.7) < 1e-3
    assert np.abs(out["depth"] - 0.7).max() < 1e-3  # corners too: z-depth, not ray length


def test_pybullet_plane_depth_is_metric_z(bullet):
    client, _ = bullet
    intr = C.Intrinsics.from_fovy(60.0, 48, 40, near=0.05, far=3.0)
    out = render_pybullet(client, intr, C.look_at([0.6, 0.6, 0.7], [0.6, 0.6, 0.0]), ["depth"])
    assert set(out) == {"depth"} and out["depth"].dtype == np.float32
    assert abs(out["depth"][20, 24] - 0.7) < 5e-3
    assert np.abs(out["depth"] - 0.7).max() < 5e-3


# ------------------------------------------------------------------------------------------- (b) masks vs pinhole


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("engine", ["mujoco", "pybullet"])
def test_mask_matches_pinhole_projection(engine, case, bullet):
    intr = CASES[case]
    if engine == "mujoco":
        out, box = render_mujoco(intr, OBLIQUE)
    else:
        client, box = bullet
        out = render_pybullet(client, intr, OBLIQUE, ["seg"])
    mask = box_mask(out, box)
    uv, _ = C.project(BOX_POS[None], intr.K, OBLIQUE)
    u, v = np.rint(uv[0]).astype(int)
    assert mask[v, u], f"projected box centre {uv[0]} outside the {engine} mask"
    expected = analytic_mask(intr, OBLIQUE)
    assert iou(mask, expected) > 0.9
    assert np.abs(centroid(mask) - centroid(expected)).max() < 0.25  # a half-pixel convention error fails


# ------------------------------------------------------------------------------------------- (c) back-projection


@pytest.mark.parametrize("engine", ["mujoco", "pybullet"])
def test_backprojected_top_face_centre(engine, bullet):
    intr = C.Intrinsics.from_K([[90.0, 0, 37.1], [0, 88.0, 26.4], [0, 0, 1]], 80, 60, near=0.05, far=3.0)
    if engine == "mujoco":
        out, box = render_mujoco(intr, DOWN)
    else:
        client, box = bullet
        out = render_pybullet(client, intr, DOWN, ["depth", "seg"])
    pts = C.backproject(out["depth"], intr.K, DOWN, box_mask(out, box))
    assert len(pts) > 50
    assert np.linalg.norm(pts.mean(axis=0) - TOP_CENTRE) < 0.01
    assert np.abs(pts[:, 2] - TOP_CENTRE[2]).max() < (2e-3 if engine == "mujoco" else 6e-3)


# ------------------------------------------------------------------------------------------- (d) cross-engine


def test_cross_engine_masks_agree(bullet):
    intr = C.Intrinsics.from_fovy(45.0, 256, 256, near=0.05, far=3.0)
    mj, mj_box = render_mujoco(intr, OBLIQUE)
    client, pb_box = bullet
    pb = render_pybullet(client, intr, OBLIQUE, ["rgb", "depth", "seg"])
    a, b = box_mask(mj, mj_box), box_mask(pb, pb_box)
    score = iou(a, b)
    shift = np.abs(centroid(a) - centroid(b)).max()
    print(f"cross-engine 256x256: IoU={score:.4f} centroid shift={shift:.3f}px")
    assert score >= 0.85 and shift < 1.0
    both = a & b
    assert np.median(np.abs(mj["depth"][both] - pb["depth"][both])) < 2e-3
    assert pb["rgb"].shape == (256, 256, 3) and pb["rgb"].dtype == np.uint8


# ------------------------------------------------------------------------------------------- (e) no physics change


def test_rendering_does_not_change_mujoco_data():
    intr = C.Intrinsics.from_fovy(45.0, 32, 24)
    model, data, _ = mujoco_scene(intr, OBLIQUE, free=True)
    data.qvel[:] = [0.1, -0.2, 0.3, 0.5, 0.0, -0.4]
    for _ in range(5):
        mujoco.mj_step(model, data)
    before = (data.qpos.copy(), data.qvel.copy(), data.act.copy(), data.time)
    with MujocoCameraRenderer(model, 32, 24) as r:
        first = r.render(data, "cam")
        handle = r._context
        r.render(data, "cam", ["rgb"])
        assert r._context is handle  # one GL context, reused
    assert r._context is None
    assert set(first) == {"rgb", "depth", "seg_geom"} and first["seg_geom"].dtype == np.int32
    np.testing.assert_array_equal(data.qpos, before[0])
    np.testing.assert_array_equal(data.qvel, before[1])
    np.testing.assert_array_equal(data.act, before[2])
    assert data.time == before[3]


def test_rendering_does_not_move_pybullet_bodies(bullet):
    client, box = bullet
    before = client.getBasePositionAndOrientation(box)
    render_pybullet(client, CASES["fovy_square"], OBLIQUE)
    assert client.getBasePositionAndOrientation(box) == before


# ------------------------------------------------------------------------------------------- misc


def test_distorted_render_keeps_box_where_opencv_projects_it(bullet):
    client, box = bullet
    intr = C.Intrinsics.from_K(
        [[70.0, 0, 35.5], [0, 70.0, 25.5], [0, 0, 1]], 72, 52, distortion=[-0.3, 0.1, 0.0, 0.0, 0.0]
    )
    src = source_intrinsics(intr)
    out = distort_images(render_pybullet(client, src, OBLIQUE, ["depth", "seg"]), intr, src)
    T_cam_world = C.invert_pose(OBLIQUE)
    rvec, _ = cv2.Rodrigues(T_cam_world[:3, :3])
    uv, _ = cv2.projectPoints(BOX_POS[None], rvec, T_cam_world[:3, 3], intr.K, intr.distortion)
    u, v = np.rint(uv.reshape(2)).astype(int)
    assert box_mask(out, box)[v, u]
    assert out["depth"].shape == (52, 72) and np.all(out["depth"] > 0)


def test_resolution_validated_before_engine_calls(bullet):
    model, _, _ = mujoco_scene(CASES["fovy_square"], OBLIQUE)
    with pytest.raises(InputError, match="width"):
        MujocoCameraRenderer(model, 0, 32)
    with pytest.raises(InputError, match="configured for 64x64"):
        MujocoCameraRenderer(model, 32, 32).render(mujoco.MjData(model), "cam")
    with pytest.raises(InputError, match="no camera"):
        MujocoCameraRenderer(model, 64, 64).render(mujoco.MjData(model), "nope")
    bad = SimpleNamespace(width=8192, height=32)
    with pytest.raises(InputError, match="width 8192"):
        render_pybullet(bullet[0], bad, OBLIQUE)  # type: ignore[arg-type]


def test_quality_presets_apply_to_spec_and_model():
    spec = mujoco.MjSpec()
    apply_quality(spec, "fast")
    assert spec.visual.quality.shadowsize == QUALITY_PRESETS["fast"]["shadowsize"]
    model = spec.compile()
    apply_quality(model, "high")
    assert (model.vis.quality.shadowsize, model.vis.quality.offsamples) == (4096, 4)
    with pytest.raises(InputError, match="quality"):
        apply_quality(model, "ultra")


def test_background_depth_reads_far(bullet):
    intr = C.Intrinsics.from_fovy(30.0, 16, 12, near=0.05, far=2.5)
    T = C.look_at([0.0, 0.0, 0.5], [0.0, 0.0, 5.0])  # looks up into empty space
    mj, _ = render_mujoco(intr, T)
    pb = render_pybullet(bullet[0], intr, T, ["depth", "seg"])
    np.testing.assert_allclose(mj["depth"], 2.5, rtol=1e-4)  # clip set from intr, not from stat.extent
    np.testing.assert_allclose(pb["depth"], 2.5, rtol=1e-4)
    assert np.all(mj["seg_geom"] == -1) and np.all(pb["seg_body"] == -1) and np.all(pb["seg_link"] == -1)


def test_configure_mujoco_camera_on_moving_body_overrides_xml_orientation():
    spec = mujoco.MjSpec.from_string(
        '<mujoco><worldbody><body name="arm" pos="0.2 0.1 0.5" euler="0.3 -0.2 1.0">'
        '<camera name="wrist" euler="0.5 0 0"/></body></worldbody></mujoco>'
    )
    T_body_cam = C.look_at([0.05, 0.0, 0.1], [0.3, 0.2, -0.4])
    E.configure_mujoco_camera(spec.camera("wrist"), CASES["offcentre_K"], T_body_cam)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    T_world_body = np.eye(4)
    T_world_body[:3, :3] = data.xmat[1].reshape(3, 3)
    T_world_body[:3, 3] = data.xpos[1]
    T = E.T_world_cam_from_mujoco(data.cam_xpos[0], data.cam_xmat[0])
    np.testing.assert_allclose(T, T_world_body @ T_body_cam, atol=1e-9)
    np.testing.assert_allclose(model.cam_resolution[0], [72, 52])
