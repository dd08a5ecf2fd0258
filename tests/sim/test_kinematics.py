"""Unit tests of the numpy Panda kinematics and the action controller (no engine)."""

from __future__ import annotations

import numpy as np

from scenes.spec import RobotSpec
from sim.control import Controller, gripper_to_finger
from sim.kinematics import PandaKinematics, down_rotation, yaw_of_down_rotation
from sim.transforms import matrix_from_quat, quat_from_matrix, rotvec_from_matrix


def test_quaternion_matrix_roundtrip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q = q if q[0] >= 0 else -q
        assert np.allclose(quat_from_matrix(matrix_from_quat(q)), q, atol=1e-12)


def test_rotvec_of_identity_and_half_turn():
    assert np.allclose(rotvec_from_matrix(np.eye(3)), 0)
    R = np.diag([1.0, -1.0, -1.0])
    assert np.isclose(np.linalg.norm(rotvec_from_matrix(R)), np.pi)


def test_ik_reaches_downward_targets():
    kin = PandaKinematics((0, 0, 0.4))
    q0 = np.array(RobotSpec().init_qpos)
    rng = np.random.default_rng(1)
    for _ in range(10):
        pos = np.array([rng.uniform(0.35, 0.65), rng.uniform(-0.2, 0.2), rng.uniform(0.45, 0.8)])
        yaw = rng.uniform(-0.8, 0.8)
        q = kin.ik(pos, down_rotation(yaw), q0, iters=100)
        T = kin.fk(q)
        assert np.linalg.norm(T[:3, 3] - pos) < 1e-3
        assert abs(yaw_of_down_rotation(T[:3, :3]) - yaw) < 1e-2
        assert np.all(q >= kin.lower) and np.all(q <= kin.upper)


def test_controller_ee_delta_moves_target_and_clips_to_workspace():
    c = Controller(RobotSpec())
    start = c.pos_target.copy()
    c.targets(np.array([1.0, 0, 0, 0, -1]))
    assert np.isclose(c.pos_target[0] - start[0], RobotSpec().controller.max_pos_delta)
    for _ in range(200):
        c.targets(np.array([0, 0, -1.0, 0, 1]))
    assert np.isclose(c.pos_target[2], RobotSpec().controller.workspace_low[2])


def test_gripper_mapping():
    assert gripper_to_finger(-1) == 0.04 and gripper_to_finger(1) == 0.0
    assert np.isclose(gripper_to_finger(0), 0.02)
