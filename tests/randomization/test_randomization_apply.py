"""Engine-side apply: every sampled parameter is read back from each engine after ``apply_params``.

One small world per engine (pick_place with tiny cameras and a flat ambient-only light, so MuJoCo renders
colours exactly); each test restores the nominal parameters, resets, applies sampled params and reads the
engine's own fields (MuJoCo model/data, PyBullet getDynamicsInfo / engine parameters) or rendered pixels.
"""

from __future__ import annotations

import numpy as np
import pytest

from randomization.apply import ARM_DAMPING, EpisodePerturbation, apply_params, apply_sensor_noise
from randomization.load import validate_randomization
from randomization.params import EpisodeParams, sample_episode_params
from randomization.seeding import stream
from renderers.camera import project
from renderers.noise import kinect_sigma
from renderers.sensors import SceneRenderer
from scenes.loader import load_scene
from scenes.runtime import Simulation
from scenes.spec import CameraSpec, LightSpec, SceneSpec
from sim.backend import BACKEND_NAMES as ENGINES
from sim.mujoco_params import restitution_to_dampratio
from sim.mujoco_textures import texture_pattern

CUBE_POS = np.array([0.6, -0.25, 0.42])  # clear of the robot, under the "top" camera
TARGET_POS = np.array([0.2, -0.4, 0.52])
FLOOR_Z_CAM = 1.0  # the floor camera looks straight down from this height


def small_scene() -> SceneSpec:
    """Return pick_place with tiny cameras and an ambient-only light (rendered colour = surface colour)."""
    base = load_scene("pick_place")
    cams = (
        CameraSpec(name="top", pos=(0.6, -0.25, 0.75), look_at=(0.6, -0.25, 0.4), fovy=40.0, width=64, height=64),
        CameraSpec(name="floorcam", pos=(1.5, 0.0, FLOOR_Z_CAM), look_at=(1.5, 0.0, 0.0), fovy=60.0,
                   width=32, height=32),
    )
    light = LightSpec(name="sun", pos=(1.5, -0.8, 2.5), dir=(-0.45, 0.25, -1.0), diffuse=(0.0, 0.0, 0.0),
                      ambient=(1.0, 1.0, 1.0), specular=(0.0, 0.0, 0.0), cast_shadow=False)
    return base.model_copy(update={"cameras": cams, "lights": (light,), "ambient": (0.0, 0.0, 0.0)})


SPEC = small_scene()


@pytest.fixture(scope="module", params=ENGINES)
def world(request):
    """Yield (simulation, renderer) of the small scene on one engine."""
    sim = Simulation(SPEC, request.param)
    renderer = SceneRenderer(sim.backend, SPEC)
    yield sim, renderer
    renderer.close()
    sim.close()


def applied(world, cfg: dict, seed: int = 7) -> EpisodeParams:
    """Sample ``cfg`` for ``seed`` and apply it the way EpisodeRunner does; return the params."""
    sim, renderer = world
    params = sample_episode_params(validate_randomization(cfg, SPEC), SPEC, seed, 0)
    sim.backend.restore_nominal_params()
    sim.reset(stream(seed, 0, "task"))
    sim.backend.set_body_pose("cube", CUBE_POS, np.array([1.0, 0.0, 0.0, 0.0]))
    sim.backend.set_body_pose("target", TARGET_POS, np.array([1.0, 0.0, 0.0, 0.0]))  # out of the views
    apply_params(sim, renderer, params)
    return params


def render(world, cam: str):
    """Render one camera of the world."""
    return world[1].render([cam])[cam]


def instance_mask(world, frame, name: str) -> np.ndarray:
    """Return the bool mask of the pixels whose instance is ``name``."""
    ids = {v["name"]: k for k, v in world[1].segmentation_ids.items()}
    return frame.segmentation == int(ids[name])


def mask_colour(world, frame, name: str) -> np.ndarray:
    """Return the median RGB (0-255) of the pixels whose instance is ``name``."""
    sel = instance_mask(world, frame, name)
    assert sel.sum() >= 4, f"{name} covers {sel.sum()} pixels"
    return np.median(frame.rgb[sel].astype(float), axis=0)


# ------------------------------------------------------------------------------------------ physics

PHYS = {"physical": {"objects": {"*": {"friction": {"dist": "uniform", "low": 0.5, "high": 1.5},
                                       "restitution": {"dist": "uniform", "low": 0.05, "high": 0.4}},
                                 "cube": {"mass": {"dist": "scale", "low": 0.5, "high": 2.0}}},
                     "joint_damping": {"dist": "scale", "low": 0.5, "high": 2.0},
                     "gravity_jitter": {"dist": "uniform", "low": -0.3, "high": 0.3}}}


def test_mass_friction_restitution_read_back(world):
    sim, _ = world
    p = applied(world, PHYS)
    b = sim.backend
    assert set(p.physical["mass"]) == {"cube"} and len(p.physical["friction"]) == 3
    for name, mass in p.physical["mass"].items():
        if b.name == "mujoco":
            i = b._body_ids[name]
            assert b.model.body_mass[i] == pytest.approx(mass, rel=1e-12)
            ratio = mass / SPEC.object(name).mass  # inertia scales with the mass
            assert b.model.body_inertia[i] == pytest.approx(b._nominal["body_inertia"][i] * ratio, rel=1e-9)
        else:
            info = b.client.getDynamicsInfo(*b._bodies[name])
            assert info[0] == pytest.approx(mass, rel=1e-12)
            assert info[2][0] == pytest.approx(mass * (0.04**2 + 0.04**2) / 12, rel=1e-6)
    for name, mu in p.physical["friction"].items():
        if b.name == "mujoco":
            assert np.allclose(b.model.geom_friction[b._body_geoms(name), 0], mu, rtol=1e-12)
        else:
            assert b.client.getDynamicsInfo(*b._bodies[name])[1] == pytest.approx(mu, rel=1e-12)
    for name, e in p.physical["restitution"].items():
        if b.name == "mujoco":
            solref = b.model.geom_solref[b._body_geoms(name)]
            assert np.allclose(solref[:, 1], restitution_to_dampratio(e), rtol=1e-12)
        else:
            assert b.client.getDynamicsInfo(*b._bodies[name])[5] == pytest.approx(e, rel=1e-12)


def test_restitution_is_the_bounce_ratio(world):
    """A cube dropped 10 cm onto the table rebounds with the velocity ratio set as its restitution."""
    sim, _ = world
    b = sim.backend
    b.restore_nominal_params()
    sim.reset(np.random.default_rng(0))
    b.set_object_restitution("cube", 0.5)
    b.finalize_params()
    b.set_body_pose("cube", np.array([0.6, -0.3, 0.52]), np.array([1.0, 0.0, 0.0, 0.0]))
    z = []
    for _ in range(200):
        b.step(1)
        z.append(b.body_pose("cube")[0][2])
    v = np.diff(z) / SPEC.physics.timestep
    up = int(np.argmax(v > 0))
    ratio = v[up:].max() / -v[:up].min()
    assert ratio == pytest.approx(0.5, abs=0.1), f"{b.name}: rebound ratio {ratio:.3f}"


def test_gravity_and_joint_damping_read_back(world):
    sim, _ = world
    p = applied(world, PHYS)
    b = sim.backend
    g = np.asarray(p.physical["gravity"])
    assert np.abs(g - SPEC.physics.gravity).max() > 1e-3  # really jittered
    if b.name == "mujoco":
        assert np.array_equal(b.model.opt.gravity, g)
    else:
        e = b.client.getPhysicsEngineParameters()
        got = [e["gravityAccelerationX"], e["gravityAccelerationY"], e["gravityAccelerationZ"]]
        assert np.allclose(got, g, rtol=0, atol=1e-12)
    assert np.allclose(b.joint_damping(), ARM_DAMPING * p.physical["joint_damping_scale"], rtol=1e-12)
    if b.name == "mujoco":
        assert np.allclose(b.model.dof_damping[b._arm_dadr], ARM_DAMPING * p.physical["joint_damping_scale"])


def test_joint_damping_changes_motion(world):
    """The written damping acts: the same commanded motion is slower with more damping."""
    sim, _ = world
    b = sim.backend
    travelled = []
    for damping in (0.0, 20.0):
        b.restore_nominal_params()
        sim.reset(np.random.default_rng(0))
        b.set_joint_damping(damping)
        b.finalize_params()
        q0 = b.joint_positions()[:7]
        b.set_joint_targets(q0 + 0.3, 0.04)
        b.step(10)
        travelled.append(np.abs(b.joint_positions()[:7] - q0).sum())
    assert travelled[1] < 0.9 * travelled[0], travelled


def test_gain_scale_read_back_and_acts(world):
    sim, _ = world
    b = sim.backend
    travelled = {}
    for scale in (0.5, 1.0):
        p = applied(world, {"robot": {"gain_scale": {"dist": "uniform", "low": scale, "high": scale}}})
        assert p.robot["gain_scale"] == scale
        if b.name == "mujoco":
            ctrl = SPEC.robot.controller
            assert np.allclose(b.model.actuator_gainprm[:7, 0], ctrl.arm_kp * scale)
            assert np.allclose(b.model.actuator_biasprm[:7, 1:3], [-ctrl.arm_kp * scale, -ctrl.arm_kv * scale])
        else:
            assert b.gain_scale == scale
        q0 = b.joint_positions()[:7]
        b.set_joint_targets(q0 + 0.005, 0.04)  # small: the motors stay below their force limits
        b.step(5)
        travelled[scale] = np.abs(b.joint_positions()[:7] - q0).sum()
    assert travelled[0.5] < 0.95 * travelled[1.0], travelled


def test_initial_joint_noise_and_placement(world):
    sim, _ = world
    cfg = {"robot": {"init_qpos_noise": {"dist": "normal", "std": 0.05, "low": -0.1, "high": 0.1}},
           "placement": {"objects": {"cube": {"region": [[0.3, -0.2], [0.4, -0.1]],
                                              "yaw": {"dist": "uniform", "low": -1, "high": 1}}}}}
    p = applied(world, cfg)
    b = sim.backend
    assert np.allclose(b.joint_positions()[:7], p.robot["init_qpos"], rtol=0, atol=1e-9)
    assert np.allclose(np.asarray(p.robot["init_qpos"]) - SPEC.robot.init_qpos, p.robot["joint_noise"])
    assert np.allclose(sim.controller.q_target, p.robot["init_qpos"])  # the controller starts from there
    pos, quat = b.body_pose("cube")
    assert np.allclose(pos, p.placement["cube"]["pos"], atol=1e-9)
    want = np.asarray(p.placement["cube"]["quat"])
    assert min(np.abs(quat - want).max(), np.abs(quat + want).max()) < 1e-6  # q and -q are one rotation


# ------------------------------------------------------------------------------------------- visual

def test_object_colour_in_engine_and_image(world):
    sim, _ = world
    cfg = {"visual": {"objects": {"*": {"rgba": {"dist": "uniform", "low": [0.2] * 3, "high": [0.9] * 3}},
                                  "floor": {"rgba": {"dist": "uniform", "low": [0.2] * 3, "high": [0.9] * 3}}}}}
    p = applied(world, cfg)
    b = sim.backend
    for name in ("cube", "table", "floor"):
        rgba = np.asarray(p.visual["rgba"][name])
        if b.name == "mujoco":
            assert np.allclose(b.model.geom_rgba[b._body_geoms(name)], rgba)
        else:
            uid, link = b._bodies[name]
            shape = [s for s in b.client.getVisualShapeData(uid) if s[1] == link][0]
            assert np.allclose(shape[7], rgba, atol=1e-6)
    for name, cam in (("cube", "top"), ("table", "top"), ("floor", "floorcam")):
        got = mask_colour(world, render(world, cam), name)
        want = np.asarray(p.visual["rgba"][name][:3]) * 255
        if b.name == "mujoco":  # ambient-only light of 1: the rendered colour is the surface colour
            assert np.abs(got - want).max() <= 2, (name, got, want)
        else:  # TinyRenderer has its own fixed lighting: colour up to one brightness factor
            k = float(got @ want / (want @ want))
            assert 0.4 < k < 1.4 and np.abs(got - k * want).max() <= 12, (name, got, want, k)


TEX = {"kinds": ["checker"], "rgb1": {"dist": "uniform", "low": [0.7, 0.1, 0.1], "high": [0.9, 0.3, 0.3]},
       "rgb2": {"dist": "uniform", "low": [0.1, 0.1, 0.7], "high": [0.3, 0.3, 0.9]},
       "repeat": {"dist": "uniform", "low": 1.0, "high": 1.0}}


def off_segment(rgb: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each pixel's distance from the colour segment [c1, c2] and its position along it."""
    s = np.clip((rgb - c1) @ (c2 - c1) / ((c2 - c1) @ (c2 - c1)), 0, 1)
    return np.abs(rgb - (c1 + s[:, None] * (c2 - c1))).max(1), s


def test_checker_texture_on_floor(world):
    sim, renderer = world
    p = applied(world, {"visual": {"objects": {"floor": {"texture": TEX}}}})
    b = sim.backend
    tex = p.visual["textures"]["floor"]
    rgb = render(world, "floorcam").rgb.reshape(-1, 3).astype(float)
    c1, c2 = np.asarray(tex["rgb1"]) * 255, np.asarray(tex["rgb2"]) * 255
    if b.name == "pybullet":  # the same pattern as a PNG texture; TinyRenderer's lighting scales the colours
        unit = rgb / np.linalg.norm(rgb, axis=1, keepdims=True)
        near1 = np.linalg.norm(unit - c1 / np.linalg.norm(c1), axis=1) < 0.08
        near2 = np.linalg.norm(unit - c2 / np.linalg.norm(c2), axis=1) < 0.08
        assert near1.mean() > 0.25 and near2.mean() > 0.25, (near1.mean(), near2.mean())
        return
    slot = b._tex_slots["floor"]
    assert np.array_equal(b.model.tex_data[slot[2]], texture_pattern(tex).reshape(-1))
    assert np.allclose(b.model.mat_texrepeat[slot[1]], 2 * tex["repeat"])  # see PLANE_TEXREPEAT
    d1 = np.abs(rgb - c1).max(1)
    d2 = np.abs(rgb - c2).max(1)
    near1, near2 = d1 <= 3, d2 <= 3
    assert near1.mean() > 0.25 and near2.mean() > 0.25, (near1.mean(), near2.mean())
    assert (near1 | near2).mean() > 0.6  # the rest are cell borders, where filtering blends the two
    assert np.percentile(off_segment(rgb, c1, c2)[0], 99) <= 4
    # Cells are 1 / (2 repeat) m on the floor (a tile of 2 x 2 cells per 1 / repeat m).
    row = (d2 < d1).reshape(32, 32)[16]
    edges = np.flatnonzero(np.diff(row.astype(int)))
    px_per_m = 32 / (2 * FLOOR_Z_CAM * np.tan(np.radians(30)))
    assert np.allclose(np.diff(edges), px_per_m / (2 * tex["repeat"]), atol=1.5), edges
    # Restoring the nominal parameters puts the plain floor back, in the GL context too.
    b.restore_nominal_params()
    plain = render(world, "floorcam").rgb.reshape(-1, 3).astype(float)
    assert np.abs(plain - np.asarray(SPEC.floor_rgba[:3]) * 255).max() <= 2


def test_noise_texture_on_table_and_cube(world):
    sim, _ = world
    tex = {**TEX, "kinds": ["noise"]}
    p = applied(world, {"visual": {"objects": {"table": {"texture": tex}, "cube": {"texture": TEX}}}})
    b = sim.backend
    f = render(world, "top")
    table = f.rgb[instance_mask(world, f, "table")].astype(float)
    t = p.visual["textures"]["table"]
    c1, c2 = np.asarray(t["rgb1"]) * 255, np.asarray(t["rgb2"]) * 255
    if b.name == "pybullet":  # textured too: pixels spread between the two colours (TinyRenderer's lighting)
        unit = table / np.linalg.norm(table, axis=1, keepdims=True)
        along = unit @ (c1 / np.linalg.norm(c1) - c2 / np.linalg.norm(c2))
        assert table.std(0).max() > 5 and np.ptp(along) > 0.2, (table.std(0), np.ptp(along))
        return
    # Every texel is a blend of rgb1 and rgb2: pixels lie on the segment between them, spread along it.
    off, s = off_segment(table, c1, c2)
    assert np.percentile(off, 95) <= 4 and np.ptp(s) > 0.3, (np.percentile(off, 95), np.ptp(s))
    # Same parameters, same pixels (the noise seed comes from the values).
    assert np.array_equal(texture_pattern(t), texture_pattern(dict(t)))
    assert not np.array_equal(texture_pattern(t), texture_pattern({**t, "repeat": t["repeat"] + 1e-9}))


def test_lights_read_back(world, monkeypatch):
    sim, renderer = world
    cfg = {"visual": {"lights": {"sun": {
        "pos_jitter": {"dist": "uniform", "low": -0.3, "high": 0.3},
        "dir_jitter": {"dist": "uniform", "low": [-0.3, -0.3, 0.0], "high": [0.3, 0.3, 0.0]},
        "diffuse": {"dist": "uniform", "low": [0.2] * 3, "high": [0.6] * 3},
        "ambient": {"dist": "scale", "low": 0.3, "high": 0.7}}}}}
    p = applied(world, cfg)
    light = p.visual["lights"]["sun"]
    b = sim.backend
    assert np.linalg.norm(np.asarray(light["dir"])) == pytest.approx(1.0)
    if b.name == "mujoco":
        i = b.model.light("sun").id
        for field, key in (("light_pos", "pos"), ("light_dir", "dir"), ("light_diffuse", "diffuse"),
                           ("light_ambient", "ambient")):
            assert np.allclose(getattr(b.model, field)[i], light[key], atol=1e-6), field
        assert np.allclose(b.data.light_xdir[i], light["dir"], atol=1e-6)  # what the renderer reads
        # Fixed-function lighting of the (non-specular) floor: rgb * (ambient + diffuse * cos(incidence)).
        floor = mask_colour(world, render(world, "floorcam"), "floor")
        cos = max(0.0, -light["dir"][2])
        gain = np.asarray(light["ambient"]) + np.asarray(light["diffuse"]) * cos
        lit = np.asarray(SPEC.floor_rgba[:3]) * 255 * gain
        assert np.abs(floor - lit).max() <= 2, (floor, lit)
    else:
        for key in ("pos", "dir", "diffuse", "ambient"):
            assert np.allclose(b.lights["sun"][key], light[key]), key
        import renderers.pybullet_render as pr

        seen = {}
        real = pr.render_pybullet

        def spy(*args, **kwargs):
            seen.update(kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(pr, "render_pybullet", spy)
        renderer.render(["floorcam"])
        assert np.allclose(seen["light_direction"], [-v for v in light["dir"]])


def test_camera_K_pose_and_projection(world):
    sim, _ = world
    cfg = {"camera": {"cameras": {"top": {
        "pos_jitter": {"dist": "uniform", "low": -0.03, "high": 0.03},
        "look_at_jitter": {"dist": "uniform", "low": -0.02, "high": 0.02},
        "fovy_jitter": {"dist": "uniform", "low": -4, "high": 4},
        "intrinsics": {"cx": {"dist": "uniform", "low": -3, "high": 3},
                       "cy": {"dist": "uniform", "low": -3, "high": 3}}}}}}
    p = applied(world, cfg, seed=11)
    cam = p.camera["top"]
    f = render(world, "top")
    assert np.allclose(f.K, cam["K"], rtol=0, atol=1e-9)
    T = f.T_world_cam
    assert np.allclose(T[:3, 3], cam["pos"], atol=1e-6)
    axis = np.asarray(cam["look_at"]) - cam["pos"]
    assert np.allclose(T[:3, 2], axis / np.linalg.norm(axis), atol=1e-6)  # optical axis towards look_at
    # The cube's top-face centre projects onto the cube in the rendered segmentation.
    ys, xs = np.nonzero(instance_mask(world, f, "cube"))
    uv = project(CUBE_POS[None] + [0, 0, 0.02], cam["K"], T)[0][0]
    assert np.hypot(uv[0] - xs.mean(), uv[1] - ys.mean()) < 1.0, (uv, xs.mean(), ys.mean())
    # An episode without camera randomization puts the scene's camera back.
    applied(world, {})
    assert np.allclose(render(world, "top").T_world_cam[:3, 3], SPEC.camera("top").pos)


# ------------------------------------------------------------------------------ action and sensors

def test_action_latency_and_noise():
    actions = [np.array([0.1 * k, -0.1 * k, 0.0, 0.0, 0.5 - 0.1 * k]) for k in range(6)]
    delayed = EpisodePerturbation(EpisodeParams(0, 0, action={"latency": 2}), np.random.default_rng(0))
    out = [delayed.effective(a) for a in actions]
    neutral = np.array([0, 0, 0, 0, actions[0][-1]])
    assert np.array_equal(out[0], neutral) and np.array_equal(out[1], neutral)
    for k in range(2, 6):
        assert np.array_equal(out[k], actions[k - 2])
    std = 0.05
    noisy = EpisodePerturbation(EpisodeParams(0, 0, action={"noise_std": std}), np.random.default_rng(1))
    a = np.zeros(5)
    d = np.stack([noisy.effective(a) for _ in range(4000)])
    assert d.std() == pytest.approx(std, rel=0.05) and abs(d.mean()) < 0.003
    again = EpisodePerturbation(EpisodeParams(0, 0, action={"noise_std": std}), np.random.default_rng(1))
    assert np.array_equal(again.effective(a), d[0])
    clipped = EpisodePerturbation(EpisodeParams(0, 0, action={"noise_std": 0.5}), np.random.default_rng(2))
    assert np.abs(np.stack([clipped.effective(np.ones(5)) for _ in range(100)])).max() <= 1.0
    none = EpisodePerturbation(EpisodeParams(0, 0), np.random.default_rng(3))
    assert np.array_equal(none.effective(actions[3]), actions[3])


def test_depth_noise_has_the_sampled_sigma(world):
    scale = 2.0
    cfg = {"sensor": {"cameras": {"floorcam": {
        "depth_model": "kinect", "depth_noise_scale": {"dist": "uniform", "low": scale, "high": scale}}}}}
    p = applied(world, cfg)
    assert p.sensor["floorcam"]["depth_noise_scale"] == scale and p.sensor["floorcam"]["edge_dropout"] == 0
    clean = render(world, "floorcam")
    noisy = apply_sensor_noise({"floorcam": clean}, p, np.random.default_rng(5))["floorcam"]
    assert np.allclose(clean.depth, FLOOR_Z_CAM, atol=0.005)  # the floor, straight below
    diff = noisy.depth.astype(float) - clean.depth
    sigma = scale * kinect_sigma(clean.depth.astype(float))
    assert diff.std() == pytest.approx(sigma.mean(), rel=0.1)
    assert abs(diff.mean()) < 4 * sigma.mean() / np.sqrt(diff.size)
    assert np.array_equal(noisy.rgb, clean.rgb)  # RGB noise off: the image is untouched
