"""Articulated URDF objects (the shipped cabinet) on both engines: same joints, limits, dynamics, link poses,
segmentation names and state round trips; the drawer moves alike under the same actions (docs/engines.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenes.loader import load_scene, scene_from_dict
from scenes.runtime import Simulation
from sim.assets import ASSETS_DIR
from sim.backend import BACKENDS, make_backend
from sim.errors import AssetError
from sim.urdf_articulated import parse_articulated_urdf

CABINET = ASSETS_DIR / "cabinet" / "cabinet.urdf"
TABLE_TOP = 0.4
# Measured: max 4.7 mm between the engines' drawer trajectories over a 40-step expert action sequence (seed 3).
DRAWER_TRAJECTORY_TOL = 0.015


def cabinet_scene(**cabinet: object) -> dict:
    """Return a scene dict with the robot on a table and the cabinet in front of it."""
    return {"name": "cab", "robot": {"base": {"pos": [0, 0, TABLE_TOP]}}, "task": {"name": "none"}, "objects": [
        {"name": "table", "shape": "box", "size": [1.1, 1.2, TABLE_TOP], "pose": {"pos": [0.35, 0, 0.2]},
         "fixed": True},
        {"name": "cabinet", "shape": "articulated", "asset": "cabinet/cabinet.urdf", "fixed": True,
         "pose": {"pos": [0.8, 0, TABLE_TOP]}, "semantic_class": "cabinet", **cabinet}]}


@pytest.fixture(scope="module")
def worlds():
    spec = scene_from_dict(cabinet_scene())
    out = {}
    for name in BACKENDS:
        world = make_backend(name)
        world.build(spec, Path(ASSETS_DIR))
        out[name] = world
    yield out
    for world in out.values():
        world.close()


def test_the_shipped_cabinet_parses_with_a_drawer_and_a_hinged_door():
    urdf = parse_articulated_urdf(str(CABINET))
    kinds = {j.name: (j.type, j.lower, j.upper) for j in urdf.movable_joints}
    assert kinds == {"drawer_slide": ("prismatic", 0.0, 0.2), "door_hinge": ("revolute", 0.0, 1.57)}
    assert urdf.root == "carcass" and set(urdf.links) == {"carcass", "drawer", "handle", "door"}


def test_both_engines_load_the_same_joints_dynamics_and_link_poses(worlds):
    mj, pb = worlds["mujoco"], worlds["pybullet"]
    assert mj.object_joint_names("cabinet") == pb.object_joint_names("cabinet") == ("drawer_slide", "door_hinge")
    urdf = [(2.0, 0.5), (0.2, 0.05)]  # (damping, friction) of drawer_slide and door_hinge in the file
    for world in (mj, pb):
        damping, friction = world.object_joint_dynamics("cabinet")
        assert np.allclose(damping, [d for d, _ in urdf]) and np.allclose(friction, [f for _, f in urdf])
    for world in (mj, pb):
        world.reset()
        world.set_object_joint_positions("cabinet", [0.1, 0.6])
    for link in ("cabinet", "cabinet/drawer", "cabinet/handle", "cabinet/door"):
        (pa, qa), (pb_, qb) = mj.body_pose(link), pb.body_pose(link)
        assert np.abs(pa - pb_).max() < 1e-5, link
        assert min(np.abs(qa - qb).max(), np.abs(qa + qb).max()) < 1e-5, link
    handle, _ = mj.body_pose("cabinet/handle")
    assert handle[0] == pytest.approx(0.8 - 0.125 - 0.015 - 0.055 - 0.1, abs=1e-6)  # pulled 10 cm towards -x


@pytest.mark.parametrize("backend", BACKENDS)
def test_closed_cabinet_stays_put_and_every_link_is_the_cabinet_instance(worlds, backend):
    world = worlds[backend]
    world.reset()
    world.step(250)
    q, qd = world.object_joint_state("cabinet")
    assert np.abs(q).max() < 1e-3 and np.abs(qd).max() < 1e-2, (q, qd)
    instance = next(i.id for i in world.instances() if i.name == "cabinet")
    if backend == "mujoco":
        body_of_geom = world.model.geom_bodyid
        names = [world._mj.mj_id2name(world.model, world._mj.mjtObj.mjOBJ_BODY, int(b)) or "" for b in body_of_geom]
        ids = world.instance_of_geom()
        cabinet_ids = {int(ids[g]) for g, n in enumerate(names) if n.startswith("cabinet")}
    else:
        uid = world._bodies["cabinet"][0]
        cabinet_ids = {v for (body, _), v in world.instance_of().items() if body == uid}
        assert len([k for k in world.instance_of() if k[0] == uid]) == 1 + world.client.getNumJoints(uid)
    assert cabinet_ids == {instance}


@pytest.mark.parametrize("backend", BACKENDS)
def test_state_round_trip_includes_the_object_joints(worlds, backend):
    world = worlds[backend]
    world.reset()
    world.set_object_joint_positions("cabinet", [0.05, 0.3])
    world.step(5)
    state = world.get_state(exact=False)
    q_before = world.object_joint_state("cabinet")[0]
    world.set_object_joint_positions("cabinet", [0.15, 1.0])
    world.set_state(state)
    assert np.allclose(world.object_joint_state("cabinet")[0], q_before, atol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_joint_dynamics_are_set_absolutely_and_restored(worlds, backend):
    world = worlds[backend]
    world.set_object_joint_dynamics("cabinet", [4.0, 0.4], 0.1)
    damping, friction = world.object_joint_dynamics("cabinet")
    assert np.allclose(damping, [4.0, 0.4]) and np.allclose(friction, [0.1, 0.1])
    world.restore_nominal_params()
    damping, friction = world.object_joint_dynamics("cabinet")
    assert np.allclose(damping, [2.0, 0.2]) and np.allclose(friction, [0.5, 0.05])
    with pytest.raises(ValueError, match="damping and friction"):
        world.set_object_joint_dynamics("cabinet", -1.0, 0.0)


def test_the_same_actions_pull_the_drawer_alike_on_both_engines():
    spec = load_scene("open_drawer")
    sims = {name: Simulation(spec, name) for name in BACKENDS}
    obs = sims["mujoco"].reset(np.random.default_rng(3))
    sims["pybullet"].reset(np.random.default_rng(3))
    expert = sims["mujoco"].task.expert()
    expert.reset()
    openings: dict[str, list[float]] = {name: [] for name in BACKENDS}
    for _ in range(40):
        action = expert.act(obs)
        for name, sim in sims.items():
            res = sim.step(action)
            openings[name].append(sim.backend.object_joint_state("cabinet")[0][0])
            if name == "mujoco":
                obs = res.obs
    for sim in sims.values():
        sim.close()
    mj, pb = np.array(openings["mujoco"]), np.array(openings["pybullet"])
    assert mj[-1] > 0.12 and pb[-1] > 0.12  # the drawer really opened on both
    assert np.abs(mj - pb).max() < DRAWER_TRAJECTORY_TOL, np.abs(mj - pb).max()


BAD_URDFS = {
    "no_inertial": ('<robot name="x"><link name="a"/></robot>', "needs an <inertial>"),
    "bad_joint_type": (
        '<robot name="x">{a}{b}<joint name="j" type="planar"><parent link="a"/><child link="b"/></joint></robot>',
        "type 'planar' is not supported"),
    "two_roots": ('<robot name="x">{a}{b}</robot>', "exactly one root link"),
    "no_limits": (
        '<robot name="x">{a}{b}<joint name="j" type="prismatic"><parent link="a"/><child link="b"/></joint></robot>',
        "needs <limit lower upper>"),
    "unknown_link": (
        '<robot name="x">{a}<joint name="j" type="fixed"><parent link="a"/><child link="zz"/></joint></robot>',
        "child link 'zz' is not defined"),
    "not_xml": ("<robot", "not a readable URDF"),
}
LINK = ('<link name="{n}"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" '
        'iyz="0"/></inertial><collision><geometry><box size="0.1 0.1 0.1"/></geometry></collision></link>')


@pytest.mark.parametrize("kind", sorted(BAD_URDFS))
def test_unsupported_urdfs_are_one_line_asset_errors(tmp_path, kind):
    text, needle = BAD_URDFS[kind]
    path = tmp_path / f"{kind}.urdf"
    path.write_text(text.format(a=LINK.format(n="a"), b=LINK.format(n="b")))
    with pytest.raises(AssetError, match=needle) as err:
        parse_articulated_urdf(str(path))
    assert "\n" not in str(err.value)


def test_bad_articulated_objects_exit_2_with_one_line(run_cli, tmp_path):
    import yaml

    (tmp_path / "broken.urdf").write_text("<robot")
    cases = {
        "broken": ({"asset": "broken.urdf"}, "objects[1].asset"),
        "joint": ({"joint_positions": {"lid": 0.1}}, "objects[1].joint_positions: 'lid' is not a movable joint"),
        "limit": ({"joint_positions": {"drawer_slide": 0.5}}, "outside the joint's limits"),
        "scale": ({"scale": 2.0}, "scale must be 1"),
    }
    for name, (override, needle) in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cabinet_scene(**override)))
        res = run_cli("validate", path)
        assert res.rc == 2 and len(res.stderr_lines) == 1 and needle in res.stderr, (name, res.stderr)


def test_initial_joint_positions_from_the_scene(worlds):
    spec = scene_from_dict(cabinet_scene(joint_positions={"door_hinge": 0.8}), Path(ASSETS_DIR))
    for name in BACKENDS:
        world = make_backend(name)
        world.build(spec, Path(ASSETS_DIR))
        world.reset()
        assert np.allclose(world.object_joint_state("cabinet")[0], [0.0, 0.8], atol=1e-9)
        world.close()


def test_generator_rebuilds_the_committed_cabinet():
    import runpy

    mod = runpy.run_path(str(ASSETS_DIR / "make_cabinet.py"))
    assert mod["cabinet_urdf"]() == CABINET.read_text()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_free_cabinet_settles_on_the_table(backend):
    spec = scene_from_dict(cabinet_scene(fixed=False, pose={"pos": [0.8, 0.0, TABLE_TOP + 0.01]}), Path(ASSETS_DIR))
    world = make_backend(backend)
    world.build(spec, Path(ASSETS_DIR))
    world.reset()
    world.step(500)  # one second
    pos, quat = world.body_pose("cabinet")
    q, _ = world.object_joint_state("cabinet")
    world.close()
    assert np.isfinite(pos).all() and abs(pos[2] - TABLE_TOP) < 0.005, pos  # resting on its bottom board
    assert np.linalg.norm(pos[:2] - [0.8, 0.0]) < 0.01 and abs(quat[0]) > 0.999, (pos, quat)
    assert np.abs(q).max() < 0.005, q  # the drawer and the door stay shut
