"""Sensors on the real scene pipeline (load_scene -> Simulation -> SceneRenderer), both engines.

Metric depth, back-projection, projection into masks (fixed and wrist camera), cross-engine agreement,
camera variants (non-square, fovy, explicit off-centre K), rendering never changes physics, id maps and
bad resolutions. Measured numbers are printed (``pytest -s``) and recorded in docs/sensors.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from renderers.camera import Intrinsics, backproject, project, validate_resolution
from renderers.sensors import Frame, SceneRenderer
from scenes.loader import load_scene, scene_from_dict
from scenes.runtime import Simulation
from scenes.spec import CameraSpec, SceneSpec
from sim.backend import BACKENDS
from sim.errors import InputError
from sim.transforms import matrix_from_quat

SEED = 3
TABLE_TOP = 0.4  # z of the pick_place table's top face (box of height 0.4 centred at z = 0.2)
CUBE_POS = np.array([0.55, 0.10, 0.42])  # the cube is teleported here (resting on the table) after reset
CUBE_YAW = 0.3
CUBE_HALF = 0.02
TABLE_XY = (0.30, -0.30)  # a free table spot: no cube, target or robot above it
DEPTH_TOL = {"mujoco": 0.001, "pybullet": 0.005}
MOVE = np.array([0.6, -0.4, -0.5, 0.3, 1.0])  # ee_delta action that moves the wrist camera

# Intrinsics variants: square fovy, non-square fovy, explicit K with fx != fy and off-centre principal point.
VARIANTS: dict[str, dict] = {
    "fovy_square": {"fovy": 50.0, "width": 128, "height": 128},
    "fovy_wide": {"fovy": 45.0, "width": 192, "height": 112},
    "K_offcentre": {"fovy": None, "K": ((150.0, 0.0, 70.3), (0.0, 140.0, 52.1), (0.0, 0.0, 1.0)),
                    "width": 160, "height": 120},
}


def camera(name: str, intr: dict, **pose) -> CameraSpec:
    """Return a validated camera spec with the given intrinsics variant and pose fields."""
    return CameraSpec(name=name, **intr, **pose)


def variant_scene(variant: str) -> SceneSpec:
    """Return pick_place with four cameras of one intrinsics variant: two top-down, agentview, wrist."""
    base = load_scene("pick_place")
    intr = VARIANTS[variant]
    agent, wrist = base.camera("agentview"), base.camera("wrist")
    tx, ty = TABLE_XY
    cams = (
        camera("down_table", intr, pos=(tx, ty, 1.0), look_at=(tx, ty, 0.0)),
        camera("down_cube", intr, pos=(CUBE_POS[0], CUBE_POS[1], 0.75), look_at=(CUBE_POS[0], CUBE_POS[1], 0.0)),
        camera("agentview", intr, pos=agent.pos, look_at=agent.look_at),
        camera("wrist", intr, pos=wrist.pos, look_at=None, quat=wrist.quat, attach_to=wrist.attach_to,
               near=wrist.near, far=wrist.far),
    )
    return base.model_copy(update={"cameras": cams})


def cube_quat() -> np.ndarray:
    return np.array([np.cos(CUBE_YAW / 2), 0.0, 0.0, np.sin(CUBE_YAW / 2)])


class World:
    """A Simulation plus its SceneRenderer, reset with SEED and the cube at CUBE_POS."""

    def __init__(self, spec: SceneSpec, backend: str, place_cube: bool = True) -> None:
        self.spec = spec
        self.sim = Simulation(spec, backend)
        self.sim.reset(np.random.default_rng(SEED))
        if place_cube:
            self.sim.backend.set_body_pose("cube", CUBE_POS, cube_quat())
        self.renderer = SceneRenderer(self.sim.backend, spec, "fast")

    def render(self, *names: str) -> dict[str, Frame]:
        return self.renderer.render(list(names) or None)

    def instance_id(self, name: str) -> int:
        return next(i for i, v in self.renderer.segmentation_ids.items() if v["name"] == name)

    def close(self) -> None:
        self.renderer.close()
        self.sim.close()


@pytest.fixture(scope="module")
def worlds():
    """Return a lazily filled cache {(variant, backend): World}; everything is closed at the end."""
    cache: dict[tuple[str, str], World] = {}

    def get(variant: str, backend: str) -> World:
        if (variant, backend) not in cache:
            cache[(variant, backend)] = World(variant_scene(variant), backend)
        return cache[(variant, backend)]

    yield get
    for w in cache.values():
        w.close()


# ------------------------------------------------------------------------------------------- helpers


def box_signed_distance(points: np.ndarray, pos: np.ndarray, quat: np.ndarray, half: float) -> np.ndarray:
    """Return the signed distance (m) of world points to the surface of a cube (negative inside)."""
    local = (points - pos) @ matrix_from_quat(quat)
    q = np.abs(local) - half
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    return outside + np.minimum(q.max(axis=1), 0.0)


def visible_surface_centre(pos: np.ndarray, quat: np.ndarray, half: float, eye: np.ndarray) -> np.ndarray:
    """Return the centroid of a cube's camera-facing faces, each weighted by its solid angle (~ pixel count)."""
    R = matrix_from_quat(quat)
    total, weight = np.zeros(3), 0.0
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = sign * R[:, axis]
            centre = pos + half * n
            view = eye - centre
            dist = np.linalg.norm(view)
            cos = float(n @ view) / dist
            if cos > 1e-6:
                w = (2 * half) ** 2 * cos / dist**2
                total, weight = total + w * centre, weight + w
    return total / weight


def pixel_of(point: np.ndarray, frame: Frame) -> tuple[int, int] | None:
    """Return the (row, col) pixel that a world point projects into, or None when outside the image."""
    uv, z = project(point, frame.K, frame.T_world_cam)
    if not z[0] > 0:
        return None
    u, v = np.rint(uv[0]).astype(int)
    if 0 <= u < frame.intrinsics.width and 0 <= v < frame.intrinsics.height:
        return int(v), int(u)
    return None


def assert_objects_project_into_masks(world: World, frame: Frame, required: set[str]) -> set[str]:
    """Assert every scene object that projects into the image lands inside its own mask; return their names."""
    hit = set()
    for obj in world.spec.objects:
        pos, _ = world.sim.backend.body_pose(obj.name)
        px = pixel_of(pos, frame)
        if px is None:
            continue
        got = int(frame.segmentation[px])
        got_name = world.renderer.segmentation_ids.get(got, {"name": "background"})["name"]
        assert got == world.instance_id(obj.name), f"{frame.camera}: {obj.name} projects onto {got_name} at {px}"
        hit.add(obj.name)
    assert required <= hit, f"{frame.camera}: expected {required} in view, projected: {hit}"
    return hit


# ------------------------------------------------------------------------------------ (a) metric depth


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_depth_is_metric_z_looking_down_at_the_table(worlds, backend: str, variant: str) -> None:
    """A camera 0.6 m above the table top reads 0.6 m at the principal point and over the whole table."""
    w = worlds(variant, backend)
    f = w.render("down_table")["down_table"]
    expected = 1.0 - TABLE_TOP
    u, v = int(round(f.intrinsics.cx)), int(round(f.intrinsics.cy))
    assert f.segmentation[v, u] == w.instance_id("table")
    err = abs(float(f.depth[v, u]) - expected)
    print(f"\n[depth] {backend} {variant}: centre error {err * 1e3:.4f} mm")
    assert err < DEPTH_TOL[backend]
    # z-depth, not ray length: every table pixel of a fronto-parallel plane reads the same value
    table = f.segmentation == w.instance_id("table")
    assert table.mean() > 0.9
    assert np.abs(f.depth[table] - expected).max() < DEPTH_TOL[backend]
    assert f.depth.dtype == np.float32 and f.depth.shape == (f.intrinsics.height, f.intrinsics.width)


# --------------------------------------------------------------------------------- (b) back-projection


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("cam", ["down_cube", "agentview"])
def test_backprojected_cube_pixels_lie_on_the_cube(worlds, backend: str, variant: str, cam: str) -> None:
    """Depth inside the cube mask back-projects onto the cube surface; the mean hits the visible-face centre.

    Top-down camera: the visible surface is the top face, so the mean must be the top-face centre.
    Oblique agentview: the mean must be the solid-angle-weighted centroid of the camera-facing faces.
    """
    w = worlds(variant, backend)
    f = w.render(cam)[cam]
    pos, quat = w.sim.backend.body_pose("cube")
    mask = f.segmentation == w.instance_id("cube")
    assert mask.sum() >= 20
    pts = backproject(f.depth, f.K, f.T_world_cam, mask)
    assert len(pts) == mask.sum()
    sd = np.abs(box_signed_distance(pts, pos, quat, CUBE_HALF))
    assert np.median(sd) < 0.002, f"median distance to the cube surface {np.median(sd) * 1e3:.2f} mm"
    eye = f.T_world_cam[:3, 3]
    expected = visible_surface_centre(pos, quat, CUBE_HALF, eye)
    if cam == "down_cube":
        np.testing.assert_allclose(expected, pos + [0, 0, CUBE_HALF], atol=1e-9)  # only the top face is seen
    err = np.linalg.norm(pts.mean(axis=0) - expected)
    print(f"\n[backproject] {backend} {variant} {cam}: {mask.sum()} px, mean error {err * 1e3:.2f} mm")
    assert err < 0.01


# ------------------------------------------------------------------------------ (c) projection in masks


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_object_positions_project_into_their_masks(backend: str, variant: str) -> None:
    """Object centres land in their own masks in agentview and in the wrist camera, also after moving."""
    w = World(variant_scene(variant), backend)
    try:
        frames = w.render("agentview", "wrist")
        assert_objects_project_into_masks(w, frames["agentview"], {"cube", "target", "table"})
        assert_objects_project_into_masks(w, frames["wrist"], {"cube", "table"})
        T0 = frames["wrist"].T_world_cam
        np.testing.assert_allclose(frames["agentview"].T_world_cam, w.renderer.T_world_cam("agentview"), atol=1e-9)
        for _ in range(4):
            res = w.sim.step(MOVE)
            assert not res.info.get("failure_reason")
        frames = w.render("agentview", "wrist")
        T1 = frames["wrist"].T_world_cam
        # MuJoCo reads the compiled camera (cam_xpos/cam_xmat), PyBullet composes link pose @ T_hand_cam
        np.testing.assert_allclose(T1, w.renderer.T_world_cam("wrist"), atol=1e-6)
        assert np.linalg.norm(T1[:3, 3] - T0[:3, 3]) > 0.03  # the wrist camera moved with the hand
        np.testing.assert_allclose(T1[:3, :3] @ T1[:3, :3].T, np.eye(3), atol=1e-9)
        hand = w.sim.backend.body_pose("panda_hand")[0]
        assert np.linalg.norm(T1[:3, 3] - hand) < 0.1
        assert_objects_project_into_masks(w, frames["wrist"], {"cube", "table"})
        assert_objects_project_into_masks(w, frames["agentview"], {"cube", "target", "table"})
    finally:
        w.close()


# ------------------------------------------------------------------------------------- (d) cross-engine

CROSS_RES = 256
MIN_IOU_PIXELS = 300


def mask_stats(a: np.ndarray, b: np.ndarray) -> tuple[int, int, float, float]:
    """Return (pixels in a, pixels in b, IoU, max centroid difference in px; nan if either is empty)."""
    na, nb = int(a.sum()), int(b.sum())
    iou = float((a & b).sum()) / max(int((a | b).sum()), 1)
    if na == 0 or nb == 0:
        return na, nb, iou, float("nan")
    return na, nb, iou, float(np.abs(np.argwhere(a).mean(0) - np.argwhere(b).mean(0)).max())


@pytest.fixture(scope="module")
def cross_frames():
    """Return ({backend: {camera: Frame}}, id map) of pick_place at 256x256 after reset with the same seed."""
    base = load_scene("pick_place")
    cams = tuple(c.model_copy(update={"width": CROSS_RES, "height": CROSS_RES}) for c in base.cameras)
    spec = base.model_copy(update={"cameras": cams})
    frames, ids = {}, {}
    for backend in BACKENDS:
        w = World(spec, backend, place_cube=False)
        frames[backend] = w.render()
        ids[backend] = w.renderer.segmentation_ids
        w.close()
    return frames, ids


def cross_engine_rows(cross_frames, names: set[str], hide_robot: bool = False) -> list[tuple]:
    """Return (camera, name, px mujoco, px pybullet, IoU, centroid diff) for instances named in ``names``.

    With ``hide_robot``, pixels that either engine labels as a robot link are left out of both masks, so that
    object masks are compared where neither engine's robot occludes them.
    """
    frames, ids = cross_frames
    robot = [i for i, v in ids["mujoco"].items() if v["class"] == "robot"]
    rows = []
    for cam in frames["mujoco"]:
        a, b = frames["mujoco"][cam].segmentation, frames["pybullet"][cam].segmentation
        keep = ~(np.isin(a, robot) | np.isin(b, robot)) if hide_robot else np.ones(a.shape, bool)
        for i, meta in ids["mujoco"].items():
            if meta["name"] in names and ((a == i).any() or (b == i).any()):
                rows.append((cam, meta["name"], *mask_stats((a == i) & keep, (b == i) & keep)))
    return rows


def test_cross_engine_object_masks_agree(cross_frames) -> None:
    """Scene objects (and the floor) >= 300 px: IoU >= 0.85; every visible object: centroids within 1 px.

    Compared outside the robot's silhouette in either engine (MuJoCo's robot meshes are incomplete, see
    test_cross_engine_robot_link_masks_agree); the raw numbers are printed too.
    """
    spec = load_scene("pick_place")
    names = {"floor", *(o.name for o in spec.objects)}
    raw = cross_engine_rows(cross_frames, names)
    rows = cross_engine_rows(cross_frames, names, hide_robot=True)
    print("\n[cross-engine 256x256] camera object | raw: px_mujoco px_pybullet IoU centroid_px | robot hidden: same")
    for r, h in zip(raw, rows, strict=True):
        print(f"  {r[0]:10s} {r[1]:8s} | {r[2]:6d} {r[3]:6d} {r[4]:.4f} {r[5]:.3f} | "
              f"{h[2]:6d} {h[3]:6d} {h[4]:.4f} {h[5]:.3f}")
    assert {(r[0], r[1]) for r in rows} >= {("agentview", "cube"), ("agentview", "table"), ("wrist", "cube")}
    for cam, name, na, nb, iou, dc in rows:
        if max(na, nb) >= MIN_IOU_PIXELS:
            assert iou >= 0.85, f"{cam}/{name}: IoU {iou:.3f}"
        assert dc <= 1.0, f"{cam}/{name}: centroids {dc:.2f} px apart"


def test_cross_engine_table_depth_agrees(cross_frames) -> None:
    """Median |depth difference| over pixels both engines label as table is below 3 mm."""
    frames, ids = cross_frames
    table = next(i for i, v in ids["mujoco"].items() if v["name"] == "table")
    for cam in frames["mujoco"]:
        a, b = frames["mujoco"][cam], frames["pybullet"][cam]
        np.testing.assert_allclose(a.T_world_cam, b.T_world_cam, atol=1e-6)
        both = (a.segmentation == table) & (b.segmentation == table)
        assert both.sum() > 1000
        diff = np.abs(a.depth[both].astype(np.float64) - b.depth[both])
        print(f"\n[cross-engine depth] {cam}: table px {both.sum()}, median {np.median(diff) * 1e3:.4f} mm, "
              f"p99 {np.percentile(diff, 99) * 1e3:.4f} mm, max {diff.max() * 1e3:.4f} mm")
        assert np.median(diff) < 0.003


def test_cross_engine_robot_link_masks_agree(cross_frames) -> None:
    """Robot links >= 300 px: IoU >= 0.85 and centroids within 1 px (multi-object OBJ meshes merged for MuJoCo)."""
    from sim.segmentation import ROBOT_VISUAL_LINKS

    rows = cross_engine_rows(cross_frames, set(ROBOT_VISUAL_LINKS))
    for r in rows:
        print(f"  {r[0]:10s} {r[1]:18s} {r[2]:6d} {r[3]:6d} {r[4]:.4f} {r[5]:.3f}")
    bad = [r for r in rows if (max(r[2], r[3]) >= MIN_IOU_PIXELS and r[4] < 0.85) or not r[5] <= 1.0]
    assert not bad, bad


# ----------------------------------------------------------------------------- (f) physics unchanged


def test_rendering_never_changes_physics(backend: str) -> None:
    """A rollout rendering every camera every step equals, bit for bit, the same rollout without rendering."""
    spec = load_scene("pick_place")
    actions = np.random.default_rng(11).uniform(-1, 1, (8, 5))
    runs = []
    for render in (False, True):
        sim = Simulation(spec, backend)
        sim.reset(np.random.default_rng(SEED))
        renderer = SceneRenderer(sim.backend, spec, "fast")
        states = [sim.backend.get_state(exact=False)]
        for a in actions:
            if render:
                frames = renderer.render()
                assert frames["wrist"].rgb is not None
            sim.step(a)
            states.append(sim.backend.get_state(exact=False))
        renderer.close()
        sim.close()
        runs.append(np.stack(states))
    assert runs[0].dtype == np.float64
    assert np.abs(runs[0][-1] - runs[0][0]).max() > 1e-3  # the robot really moved
    np.testing.assert_array_equal(runs[0], runs[1])


# ------------------------------------------------------------------------------------------ (g) id map


def test_segmentation_id_map_is_identical_across_engines(cross_frames) -> None:
    """Same ids, names, classes and bodies on both engines; every rendered id is in the map."""
    frames, ids = cross_frames
    assert ids["mujoco"] == ids["pybullet"]
    spec = load_scene("pick_place")
    by_name = {v["name"]: v for v in ids["mujoco"].values()}
    for o in spec.objects:
        assert by_name[o.name]["class"] == o.semantic_class and by_name[o.name]["body"] == o.name
    assert by_name["floor"]["class"] == "floor" and by_name["panda_hand"]["class"] == "robot"
    assert 0 not in ids["mujoco"] and sorted(ids["mujoco"]) == list(range(1, len(ids["mujoco"]) + 1))
    for backend, cams in frames.items():
        for f in cams.values():
            assert f.segmentation.dtype == np.int32
            assert set(np.unique(f.segmentation).tolist()) <= {0, *ids[backend]}


# ------------------------------------------------------------------------------- (h) bad resolutions


@pytest.mark.parametrize("field", ["width", "height"])
@pytest.mark.parametrize("value", [0, -1, 5000])
def test_bad_resolution_is_rejected_before_any_engine(field: str, value: int, monkeypatch) -> None:
    """0, negative and > 4096 px fail in scene validation, in camera math and in SceneRenderer, engine-free."""
    import sim.backend

    def no_engine(name: str):
        raise AssertionError("an engine was started")

    monkeypatch.setattr(sim.backend, "make_backend", no_engine)
    data = load_scene("pick_place").model_dump(mode="json")
    data["cameras"][0][field] = value
    with pytest.raises(InputError, match=rf"cameras\[0\]\.{field}: must be"):
        scene_from_dict(data)
    size = {"width": 64, "height": 64, field: value}
    with pytest.raises(InputError, match=f"camera {field}"):
        validate_resolution(size["width"], size["height"])
    with pytest.raises(InputError, match=f"camera {field}"):
        Intrinsics.from_fovy(45.0, size["width"], size["height"])
    # a spec that bypassed validation (model_copy) still fails before the renderer touches the backend
    base = load_scene("pick_place")
    bad = base.model_copy(update={"cameras": (base.cameras[0].model_copy(update={field: value}),)})

    class NoEngine:
        def __getattr__(self, name: str):
            raise AssertionError(f"engine touched: {name}")

    with pytest.raises(InputError, match=f"camera {field}"):
        SceneRenderer(NoEngine(), bad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_camera_moves_a_camera_and_puts_it_back_exactly(backend):
    spec = load_scene("pick_place")
    sim = Simulation(spec, backend, None)
    sim.reset(np.random.default_rng(SEED))
    renderer = SceneRenderer(sim.backend, spec, "fast")
    try:
        # Every episode writes each camera (randomized or the scene's) into the engine: on MuJoCo a written camera
        # is its intrinsics, not the compiled fovy, and can differ from it in the last bits of depth.
        renderer.set_camera("agentview")
        nominal = renderer.render(["agentview"])["agentview"]
        renderer.set_camera("agentview")  # as it is: nothing changes
        np.testing.assert_array_equal(renderer.render(["agentview"])["agentview"].depth, nominal.depth)
        renderer.set_camera("agentview", pos=(1.2, 0.5, 1.0), fovy=40.0)
        moved = renderer.render(["agentview"])["agentview"]
        assert not np.array_equal(moved.rgb, nominal.rgb)
        assert not np.allclose(moved.T_world_cam, nominal.T_world_cam)
        renderer.set_camera("agentview")  # back to the scene's camera, as an episode that does not randomize it
        back = renderer.render(["agentview"])["agentview"]
        for key in ("rgb", "depth", "segmentation", "T_world_cam"):
            np.testing.assert_array_equal(getattr(back, key), getattr(nominal, key), err_msg=key)
        assert back.intrinsics == nominal.intrinsics
    finally:
        renderer.close()
        sim.close()
