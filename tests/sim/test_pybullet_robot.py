"""The Panda as PyBullet loads it (``sim.pybullet_robot``): the frame-only links folded away change neither the
dynamics (beyond rounding) nor the frames' poses nor the recorded state layout; without a writable cache the
original URDF is loaded and everything still works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pybullet
import pytest

from sim.assets import panda_urdf_text, pybullet_data_dir
from sim.pybullet_robot import URDF_JOINTS, fold_frame_links, folded_robot_urdf

ARM = [f"panda_joint{i}" for i in range(1, 8)]


def _same_rotation(a, b) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-7  # q and -q; PyBullet reports float32 precision


def _load(path: str) -> tuple[int, int, dict[str, int], dict[str, int]]:
    cid = pybullet.connect(pybullet.DIRECT)
    pybullet.setPhysicsEngineParameter(fixedTimeStep=0.002, numSolverIterations=20, physicsClientId=cid)
    pybullet.setGravity(0, 0, -9.81, physicsClientId=cid)
    robot = pybullet.loadURDF(path, [0, 0, 0.4], useFixedBase=True, flags=pybullet.URDF_USE_INERTIA_FROM_FILE,
                              physicsClientId=cid)
    joints, links = {}, {}
    for j in range(pybullet.getNumJoints(robot, physicsClientId=cid)):
        info = pybullet.getJointInfo(robot, j, physicsClientId=cid)
        joints[info[1].decode()], links[info[12].decode()] = j, j
    return cid, robot, joints, links


def test_state_layout_is_pybullets_numbering_of_the_original_urdf():
    cid, _, joints, _ = _load(str(pybullet_data_dir() / "franka_panda" / "panda.urdf"))
    pybullet.disconnect(cid)
    assert tuple(sorted(joints, key=joints.get)) == URDF_JOINTS


def test_folding_keeps_dynamics_and_frames(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path))
    folded_path, frames = folded_robot_urdf(panda_urdf_text()[0])
    assert folded_path is not None and set(frames) == {"panda_link8", "panda_grasptarget"}
    worlds = [_load(str(pybullet_data_dir() / "franka_panda" / "panda.urdf")), _load(str(folded_path))]
    assert len(worlds[1][2]) == len(worlds[0][2]) - 2  # two links fewer for Bullet to integrate
    rng = np.random.default_rng(0)
    for _ in range(10):  # 10 control steps of 25 substeps toward random arm targets
        target = np.array([0, -0.3, 0, -2.2, 0, 1.9, 0.78]) + rng.normal(0, 0.2, 7)
        for cid, robot, joints, _ in worlds:
            pybullet.setJointMotorControlArray(robot, [joints[n] for n in ARM], pybullet.POSITION_CONTROL,
                                               targetPositions=target.tolist(), physicsClientId=cid)
            for _ in range(25):
                pybullet.stepSimulation(physicsClientId=cid)
    (c0, r0, j0, l0), (c1, r1, j1, l1) = worlds
    q0 = [s[0] for s in pybullet.getJointStates(r0, [j0[n] for n in ARM], physicsClientId=c0)]
    q1 = [s[0] for s in pybullet.getJointStates(r1, [j1[n] for n in ARM], physicsClientId=c1)]
    assert np.abs(np.subtract(q0, q1)).max() < 1e-9  # same motion up to rounding
    for name, frame in frames.items():  # a folded frame = its parent's frame x the fixed offset
        want = pybullet.getLinkState(r0, l0[name], computeForwardKinematics=True, physicsClientId=c0)
        parent = pybullet.getLinkState(r1, l1[frame.parent], computeForwardKinematics=True, physicsClientId=c1)
        pos, orn = pybullet.multiplyTransforms(parent[4], parent[5], frame.pos, frame.quat_xyzw)
        assert np.allclose(pos, want[4], atol=1e-9) and _same_rotation(orn, want[5])
    for cid, *_ in worlds:
        pybullet.disconnect(cid)


def test_fold_adds_the_isotropic_inertia_to_the_parent():
    text, _ = fold_frame_links(panda_urdf_text()[0])
    assert 'name="panda_link8"' not in text and 'name="panda_grasptarget"' not in text
    for link in ("panda_link7", "panda_hand"):
        block = text[text.index(f'<link name="{link}">'):]
        assert 'ixx="0.2"' in block[:block.index("</link>")]


@pytest.mark.parametrize("backend_name", ["pybullet"])
def test_backend_without_a_writable_cache_loads_the_original(tmp_path, monkeypatch, backend_name):
    from scenes.loader import load_scene
    from sim.backend import make_backend

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(blocker))
    spec = load_scene("pick_place")
    plain = make_backend(backend_name)
    plain.build(spec)
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path / "cache"))
    folded = make_backend(backend_name)
    folded.build(spec)
    assert plain.client.getNumJoints(plain.robot) == folded.client.getNumJoints(folded.robot) + 2
    assert plain.get_state().shape == folded.get_state().shape  # the same recorded layout either way
    for name in ("panda_grasptarget", "panda_link8", "panda_hand"):
        (p0, q0), (p1, q1) = plain.body_pose(name), folded.body_pose(name)
        assert np.allclose(p0, p1, atol=1e-9) and _same_rotation(q0, q1)
    plain.close()
    folded.close()


def test_joint_positions_follow_every_change_after_a_step():
    """joint_positions() answers from what step() read; teleports and state restores must not see a stale value."""
    from scenes.loader import load_scene
    from sim.backend import make_backend

    backend = make_backend("pybullet")
    backend.build(load_scene("pick_place"))
    start = backend.get_state()
    backend.set_joint_targets(np.array([0.3, -0.2, 0.1, -2.0, 0.1, 1.8, 0.5]), 0.01)
    backend.step(25)
    moved = backend.joint_positions()
    assert np.array_equal(moved, [s[0] for s in backend.client.getJointStates(backend.robot, backend._robot_joints)])
    q = np.array([0.1, -0.4, 0.0, -2.1, 0.0, 1.7, 0.7, 0.02, 0.02])
    backend.set_joint_positions(q)
    assert np.allclose(backend.joint_positions(), q)
    backend.step(5)
    backend.set_state(start)
    assert np.allclose(backend.joint_positions(), [0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785398, 0.04, 0.04], atol=1e-6)
    backend.reset()
    assert not np.array_equal(backend.joint_positions(), moved)
    backend.close()


def test_a_world_no_camera_draws_loads_the_robot_without_visuals_and_the_same_physics():
    from scenes.loader import load_scene
    from sim.backend import NOTHING_RENDERED, make_backend

    spec = load_scene("pick_place")
    worlds = []
    for detail in (1.0, NOTHING_RENDERED):
        backend = make_backend("pybullet")
        backend.build(spec, visual_detail=detail)
        worlds.append(backend)
    drawn, headless = worlds
    def meshes(backend) -> set[str]:
        return {Path(s[4].decode()).parent.name for s in backend.client.getVisualShapeData(backend.robot) if s[4]}

    # the drawn robot has its visual meshes; the headless one only what PyBullet shows of its collision meshes
    assert "visual" in meshes(drawn) and meshes(headless) == {"collision"}
    rng = np.random.default_rng(1)
    for _ in range(24):
        q = np.array([0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785]) + rng.normal(0, 0.1, 7)
        for backend in worlds:
            backend.set_joint_targets(q, 0.02)
            backend.step(25)
        assert np.array_equal(drawn.get_state(exact=False), headless.get_state(exact=False))
    for backend in worlds:
        backend.close()
