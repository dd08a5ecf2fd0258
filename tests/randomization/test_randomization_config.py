"""Randomization config validation, presets, seed streams, episode params and apply_to_spec."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import yaml

from randomization.config import RandomizationConfig
from randomization.load import load_randomization, preset, validate_randomization
from randomization.params import (
    EpisodeParams,
    apply_to_spec,
    footprint_radius,
    sample_episode_params,
)
from randomization.presets import PRESETS
from randomization.seeding import episode_seed_sequence, purpose_id, stream
from scenes.loader import builtin_names, load_scene, scene_from_dict
from sim.assets import resolve_asset
from sim.errors import SceneError

SCENE = """
name: rand_test
objects:
  - {name: table, shape: box, size: [1.1, 1.2, 0.4], pose: {pos: [0.35, 0.0, 0.2]}, fixed: true}
  - {name: cube, shape: box, size: [0.04, 0.04, 0.04], pose: {pos: [0.5, 0.0, 0.42]}, mass: 0.05}
  - {name: target, shape: sphere, size: [0.015], pose: {pos: [0.5, 0.15, 0.52]}, fixed: true, collide: false}
  - {name: block, shape: cylinder, size: [0.02, 0.05], pose: {pos: [0.3, 0.2, 0.425]}}
lights:
  - {name: sun, pos: [0.5, 0.0, 2.0], dir: [0.0, 0.0, -1.0], diffuse: [0.7, 0.7, 0.7], ambient: [0.35, 0.35, 0.35]}
cameras:
  - {name: agentview, pos: [1.3, 0.0, 1.05], look_at: [0.45, 0.0, 0.45], fovy: 45.0, width: 128, height: 128}
  - {name: wrist, attach_to: panda_hand, pos: [0.06, 0.0, 0.02], look_at: null, quat: [1, 0, 0, 0],
     fovy: 75.0, width: 128, height: 128, near: 0.01, far: 2.0}
task:
  name: pick_place
  params: {cube_region: [[0.42, -0.12], [0.58, 0.12]], min_separation: 0.08}
"""


@pytest.fixture(scope="module")
def spec():
    return scene_from_dict(yaml.safe_load(SCENE))


@pytest.mark.parametrize("name", builtin_names())
def test_presets_work_on_builtin_scenes(name):
    scene = load_scene(name)
    for p in PRESETS:
        params = sample_episode_params(preset(p, scene), scene, 0, 0)
        baked = apply_to_spec(scene, params)
        assert baked.name == scene.name and len(baked.objects) == len(scene.objects) + len(params.distractors)
        assert EpisodeParams.from_json(params.to_json()) == params
        if p == "none":
            assert baked == scene


def err(cfg, spec) -> str:
    with pytest.raises(SceneError) as exc:
        validate_randomization(cfg, spec)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------ validation

def test_unknown_targets_are_named(spec):
    m = err({"physical": {"objects": {"cubee": {"mass": {"dist": "scale", "low": 0.5, "high": 2}}}}}, spec)
    assert m.startswith("randomization.physical.objects.cubee: unknown object 'cubee'")
    assert "cube" in m
    m = err({"visual": {"lights": {"lamp": {"diffuse": {"dist": "scale", "low": 0.5, "high": 1}}}}}, spec)
    assert m.startswith("randomization.visual.lights.lamp: unknown light 'lamp'")
    m = err({"camera": {"cameras": {"front": {"fovy_jitter": {"dist": "uniform", "low": -1, "high": 1}}}}}, spec)
    assert m.startswith("randomization.camera.cameras.front: unknown camera 'front'")
    m = err({"sensor": {"cameras": {"front": {"depth_model": "kinect"}}}}, spec)
    assert m.startswith("randomization.sensor.cameras.front: unknown camera")
    m = err({"placement": {"objects": {"ball": {"region": [[0, 0], [1, 1]]}}}}, spec)
    assert m.startswith("randomization.placement.objects.ball: unknown object 'ball'")


def test_unknown_parameters_are_named(spec):
    m = err({"physical": {"objects": {"cube": {"masss": {"dist": "uniform", "low": 0.1, "high": 1}}}}}, spec)
    assert m == "randomization.physical.objects.cube.masss: unknown parameter 'masss'"
    assert err({"physicall": {}}, spec) == "randomization.physicall: unknown parameter 'physicall'"
    m = err({"camera": {"cameras": {"agentview": {"fovy_jitter": {"dist": "uniform", "low": 0, "high": 1,
                                                                     "hi": 2}}}}}, spec)
    assert m == "randomization.camera.cameras.agentview.fovy_jitter.hi: unknown parameter 'hi'"


def test_distribution_errors_carry_the_path(spec):
    m = err({"physical": {"objects": {"cube": {"mass": {"dist": "uniform", "low": 2, "high": 1}}}}}, spec)
    assert m.startswith("randomization.physical.objects.cube.mass: low > high")
    m = err({"robot": {"init_qpos_noise": {"dist": "normal", "std": -0.1}}}, spec)
    assert m.startswith("randomization.robot.init_qpos_noise: std must be >= 0")
    m = err({"action": {"latency": {"dist": "choice", "values": [0, 1], "p": [0.5, 0.4]}}}, spec)
    assert m.startswith("randomization.action.latency: p must sum to 1")
    m = err({"action": {"latency": {"dist": "gaussian", "std": 1}}}, spec)
    assert m.startswith("randomization.action.latency: unknown distribution 'gaussian'")
    m = err({"action": {"latency": {"low": 0, "high": 1}}}, spec)
    assert m.startswith("randomization.action.latency: missing 'dist'")


def test_out_of_range_and_shape_errors(spec):
    m = err({"physical": {"objects": {"cube": {"mass": {"dist": "uniform", "low": -1, "high": 1}}}}}, spec)
    assert "randomization.physical.objects.cube.mass" in m and "outside the allowed" in m
    m = err({"physical": {"objects": {"*": {"restitution": {"dist": "scale", "low": 0.5, "high": 2}}}}}, spec)
    assert "restitution" in m and "nominal" in m
    m = err({"sensor": {"cameras": {"*": {"edge_dropout": {"dist": "uniform", "low": 0, "high": 1.5}}}}}, spec)
    assert "edge_dropout" in m and "outside" in m
    m = err({"visual": {"objects": {"cube": {"rgba": {"dist": "uniform", "low": [0] * 5, "high": [1] * 5}}}}},
            spec)
    assert "randomization.visual.objects.cube.rgba: expected" in m and "5 components" in m
    m = err({"camera": {"cameras": {"wrist": {"look_at_jitter": {"dist": "uniform", "low": 0, "high": 1}}}}},
            spec)
    assert "has no look_at" in m
    m = err({"camera": {"cameras": {"*": {"fovy_jitter": {"dist": "uniform", "low": -50, "high": 0}}}}}, spec)
    assert "fovy_jitter" in m and "outside" in m
    assert "must be a mapping" in err([1, 2], spec)


def test_wildcard_and_explicit_merge_field_by_field(spec):
    cfg = validate_randomization({"physical": {"objects": {
        "*": {"friction": {"dist": "uniform", "low": 0.5, "high": 0.6}},
        "cube": {"mass": {"dist": "uniform", "low": 0.2, "high": 0.3}},
    }}}, spec)
    p = sample_episode_params(cfg, spec, 0, 0)
    assert 0.2 <= p.physical["mass"]["cube"] <= 0.3
    assert set(p.physical["mass"]) == {"cube"}
    assert set(p.physical["friction"]) == {"table", "cube", "target", "block"}
    assert all(0.5 <= v <= 0.6 for v in p.physical["friction"].values())


def test_presets_validate_and_none_is_empty(spec):
    for name in PRESETS:
        assert isinstance(preset(name, spec), RandomizationConfig)
    p = sample_episode_params(preset("none", spec), spec, 3, 4)
    assert p.to_dict() == {"dataset_seed": 3, "episode_index": 4, "visual": {}, "camera": {}, "physical": {},
                           "placement": {}, "distractors": [], "robot": {}, "action": {}, "sensor": {},
                           "version": 1}
    assert apply_to_spec(spec, p) == spec


def test_preset_key_merges_overrides(spec):
    cfg = validate_randomization({"preset": "physical",
                                  "action": {"latency": {"dist": "choice", "values": [2]}}}, spec)
    assert cfg.action.latency.values == [2]
    assert cfg.physical.joint_damping is not None
    off = validate_randomization({"preset": "full", "sensor": None, "action": {"latency": None},
                                  "physical": {"objects": {"*": None}}}, spec)
    assert off.sensor.cameras == {} and off.action.latency is None and off.action.noise_std is not None
    assert off.physical.objects == {} and off.physical.joint_damping is not None
    assert "unknown preset" in err({"preset": "wild"}, spec)


def test_load_randomization_preset_file_and_errors(spec, tmp_path):
    assert load_randomization("visual", spec) == preset("visual", spec)
    f = tmp_path / "r.yaml"
    f.write_text("physical:\n  objects:\n    cube:\n      mass: {dist: scale, low: 0.5, high: 2.0}\n")
    cfg = load_randomization(str(f), spec)
    assert cfg.physical.objects["cube"].mass.high == 2.0
    wrapped = tmp_path / "w.yaml"
    wrapped.write_text("randomization:\n  action:\n    latency: {dist: choice, values: [0, 1]}\n")
    assert load_randomization(wrapped, spec).action.latency is not None
    bad = tmp_path / "bad.yaml"
    bad.write_text("physical: [unclosed\n")
    with pytest.raises(SceneError, match="not valid YAML"):
        load_randomization(str(bad), spec)
    with pytest.raises(SceneError, match="unknown randomization preset 'fancy'"):
        load_randomization("fancy", spec)
    with pytest.raises(SceneError, match="does not exist"):
        load_randomization(str(tmp_path / "missing.yaml"), spec)
    typo = tmp_path / "typo.yaml"
    typo.write_text("physical:\n  objects:\n    cubee: {mass: {dist: scale, low: 0.5, high: 2}}\n")
    with pytest.raises(SceneError, match=r"^randomization.physical.objects.cubee: unknown object"):
        load_randomization(typo, spec)
    assert load_randomization(None, spec) == RandomizationConfig()  # the scene has no section


# ------------------------------------------------------------------------------------------ seeds

def test_streams_are_stable_and_episode_independent():
    a = stream(42, 7, "placement").random(5)
    for i in range(7):  # other episodes' streams in between change nothing
        stream(42, i, "placement").random(100)
    assert np.array_equal(a, stream(42, 7, "placement").random(5))
    assert not np.array_equal(a, stream(42, 8, "placement").random(5))
    assert not np.array_equal(a, stream(43, 7, "placement").random(5))
    assert not np.array_equal(a, stream(42, 7, "visual").random(5))
    seq = episode_seed_sequence(42, 7)
    assert seq.spawn_key == (7,) and seq.entropy == 42
    child = np.random.SeedSequence(42).spawn(8)[7]
    assert child.generate_state(4).tolist() == seq.generate_state(4).tolist()


def test_purpose_ids_are_fixed():
    assert purpose_id("placement") == 1 and purpose_id("sensor_noise") == 12
    assert purpose_id("my_custom") == (1 << 32) + 1776408192  # zlib.crc32, never Python hash()
    for bad in ("", "Bad Name", None):
        with pytest.raises(ValueError):
            purpose_id(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        stream(-1, 0, "placement")
    with pytest.raises(ValueError, match="non-negative"):
        stream(0, 1.5, "placement")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ episode params

def test_sampling_is_pure_and_order_independent(spec):
    cfg = preset("full", spec)
    loop = [sample_episode_params(cfg, spec, 11, i) for i in range(10)]
    alone = [sample_episode_params(cfg, spec, 11, i) for i in range(5, 10)]
    assert alone == loop[5:]
    assert sample_episode_params(cfg, spec, 11, 3).to_json() == loop[3].to_json()
    assert loop[0] != loop[1]


def test_groups_use_independent_streams(spec):
    full = sample_episode_params(preset("full", spec), spec, 5, 2)
    phys = sample_episode_params(preset("physical", spec), spec, 5, 2)
    vis = sample_episode_params(preset("visual", spec), spec, 5, 2)
    assert full.placement == phys.placement and full.physical == phys.physical and full.robot == phys.robot
    assert full.visual == vis.visual and full.camera == vis.camera
    assert full.sensor and not phys.sensor and full.placement
    assert sample_episode_params(preset("none", spec), spec, 5, 2).placement == {}


def test_json_round_trip(spec):
    p = sample_episode_params(preset("full", spec), spec, 1, 9)
    q = EpisodeParams.from_json(p.to_json())
    assert q == p and q.to_json() == p.to_json()
    assert q.structural_key() == p.structural_key() == ()
    with pytest.raises(ValueError, match="unknown keys"):
        EpisodeParams.from_dict({**p.to_dict(), "extra": 1})


def three_object_spec(spec):
    objs = list(spec.objects) + [spec.object("cube").model_copy(update={"name": "cube2"}),
                                 spec.object("cube").model_copy(update={"name": "ball", "shape": "sphere",
                                                                         "size": (0.03,)})]
    return spec.model_copy(update={"objects": tuple(objs)})


def test_placements_do_not_overlap_and_stay_in_region(spec):
    spec3 = three_object_spec(spec)
    region = [[0.4, -0.1], [0.6, 0.1]]
    cfg = validate_randomization({"placement": {"min_separation": 0.01, "objects": {
        n: {"region": region, "yaw": {"dist": "uniform", "low": -math.pi, "high": math.pi}}
        for n in ("cube", "cube2", "ball")}}}, spec3)
    radii = {n: footprint_radius(spec3.object(n)) for n in ("cube", "cube2", "ball")}
    for ep in range(150):
        p = sample_episode_params(cfg, spec3, 0, ep)
        for n, pose in p.placement.items():
            x, y, z = pose["pos"]
            assert 0.4 <= x <= 0.6 and -0.1 <= y <= 0.1 and z == spec3.object(n).pose.pos[2]
            assert abs(np.linalg.norm(pose["quat"]) - 1) < 1e-9
        for a, b in itertools.combinations(p.placement, 2):
            d = math.dist(p.placement[a]["pos"][:2], p.placement[b]["pos"][:2])
            assert d >= radii[a] + radii[b] + 0.01
    impossible = validate_randomization({"placement": {"max_attempts": 20, "objects": {
        n: {"region": [[0.5, 0.0], [0.52, 0.02]]} for n in ("cube", "cube2")}}}, spec3)
    with pytest.raises(SceneError, match="could not place"):
        sample_episode_params(impossible, spec3, 0, 0)


def test_preset_placement_leaves_task_placed_objects_to_the_task(spec):
    cfg = preset("physical", spec)
    assert set(cfg.placement.objects) == {"block"}  # 'cube' has a task region, 'table'/'target' are fixed
    for ep in range(50):
        pos = sample_episode_params(cfg, spec, 2, ep).placement["block"]["pos"]
        assert abs(pos[0] - 0.3) <= 0.03 and abs(pos[1] - 0.2) <= 0.03


def test_apply_to_spec_bakes_values(spec):
    p = sample_episode_params(preset("full", spec), spec, 0, 1)
    s = apply_to_spec(spec, p)
    assert list(s.object("block").pose.pos) == p.placement["block"]["pos"]
    assert list(s.object("block").pose.quat) == pytest.approx(p.placement["block"]["quat"])
    cube = s.object("cube")
    assert list(cube.rgba) == p.visual["rgba"]["cube"] and cube.mass == p.physical["mass"]["cube"]
    assert s.object("table").friction == p.physical["friction"]["table"]
    assert list(s.floor_rgba) == p.visual["rgba"]["floor"]
    assert list(s.lights[0].diffuse) == p.visual["lights"]["sun"]["diffuse"]
    cam = s.camera("agentview")
    assert list(cam.pos) == p.camera["agentview"]["pos"] and cam.fovy == p.camera["agentview"]["fovy"]
    assert list(s.physics.gravity) == p.physical["gravity"]
    assert s.object("table").mass == spec.object("table").mass  # '*' mass skips fixed objects
    assert apply_to_spec(spec, EpisodeParams.from_json(p.to_json())) == s


def test_intrinsics_jitter_gives_consistent_K(spec):
    cfg = validate_randomization({"camera": {"cameras": {"agentview": {
        "fovy_jitter": {"dist": "uniform", "low": -3, "high": 3},
        "intrinsics": {"cx": {"dist": "uniform", "low": -2, "high": 2},
                       "fy": {"dist": "uniform", "low": -1, "high": 1}}}}},
                                  "sensor": {"cameras": {"*": {"depth_model": "realsense"}}}}, spec)
    p = sample_episode_params(cfg, spec, 0, 0)
    c = p.camera["agentview"]
    K = np.array(c["K"])
    assert abs(K[0, 2] - 63.5) <= 2 and K[1, 2] == 63.5
    assert math.isclose(c["fovy"], math.degrees(2 * math.atan(64 / K[1, 1])))
    assert math.isclose(p.sensor["agentview"]["focal_px"], K[1, 1])
    assert math.isclose(p.sensor["wrist"]["focal_px"], 64 / math.tan(math.radians(75 / 2)))
    s = apply_to_spec(spec, p)
    assert np.allclose(np.array(s.camera("agentview").K), K)


def test_distractors_are_structural_and_placed(spec):
    cfg = validate_randomization({"placement": {"min_separation": 0.01, "distractors": {
        "count": {"dist": "choice", "values": [2, 3]}, "meshes": [3, 17, 250],
        "size": {"dist": "uniform", "low": 0.3, "high": 0.5}, "region": [[0.3, -0.3], [0.7, 0.3]],
        "z": 0.45, "footprint_radius": 0.08}}}, spec)
    keys = set()
    for ep in range(20):
        p = sample_episode_params(cfg, spec, 0, ep)
        assert len(p.distractors) in (2, 3)
        cube = spec.object("cube").pose.pos
        for d in p.distractors:
            assert d["mesh"] in (3, 17, 250) and d["asset"] == f"random_urdfs/{d['mesh']:03d}/{d['mesh']:03d}.urdf"
            assert math.dist(d["pos"][:2], cube[:2]) >= d["footprint_radius"] + footprint_radius(
                spec.object("cube")) + 0.01
        keys.add(p.structural_key())
        s = apply_to_spec(spec, p)
        extra = s.objects[len(spec.objects):]
        assert [o.name for o in extra] == [d["name"] for d in p.distractors]
        assert all(o.shape == "urdf" and o.semantic_class == "distractor" for o in extra)
        assert all(resolve_asset(o.asset).is_file() for o in extra)
    assert len(keys) > 1
    with pytest.raises(SceneError, match="meshes"):
        validate_randomization({"placement": {"distractors": {"count": {"dist": "choice", "values": [1]},
                                                               "meshes": [1000], "region": [[0, 0], [1, 1]]}}},
                               spec)
