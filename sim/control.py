"""Action -> joint-target controller with the same semantics on every backend.

``ee_delta`` actions are (dx, dy, dz, dyaw, gripper) in [-1, 1]. The controller integrates a target
end-effector pose (position += a[:3] * max_pos_delta, yaw += a[3] * max_yaw_delta; clipped to the
workspace box), solves IK with robosynth's own numpy kinematics from the previous joint target, and sends
joint position targets. Because the targets depend only on the action sequence (not on engine state), the
same actions give the same joint targets on MuJoCo and PyBullet.

``joint_pos`` actions are 7 absolute arm joint targets (rad, clipped to limits) plus the gripper command.

Gripper command g in [-1, 1]: -1 fully open (0.04 m per finger), +1 closed; linear in between.
"""

from __future__ import annotations

import numpy as np

from scenes.spec import ControllerSpec, RobotSpec
from sim.kinematics import PandaKinematics, down_rotation, yaw_of_down_rotation

FINGER_OPEN = 0.04


def gripper_to_finger(g: float) -> float:
    """Return the per-finger opening (m) for gripper command ``g`` in [-1, 1]."""
    return FINGER_OPEN * (1.0 - min(max(float(g), -1.0), 1.0)) / 2.0


class Controller:
    """Turns actions into joint targets for one robot."""

    def __init__(self, robot: RobotSpec):
        self.robot = robot
        self.cfg: ControllerSpec = robot.controller
        self.kin = PandaKinematics(robot.base.pos, robot.base.quat)
        self.q_rest = np.asarray(robot.init_qpos, float)
        self.low = np.asarray(self.cfg.workspace_low, float)
        self.high = np.asarray(self.cfg.workspace_high, float)
        self.reset(self.q_rest, robot.init_gripper)

    @property
    def action_dim(self) -> int:
        """Return the action size of the configured mode."""
        return 5 if self.cfg.mode == "ee_delta" else 8

    def reset(self, q_arm: np.ndarray, finger: float) -> None:
        """Set the internal targets to the given joint configuration."""
        self.q_target = np.asarray(q_arm, float).copy()
        T = self.kin.fk(self.q_target)
        self.pos_target = T[:3, 3].copy()
        self.yaw_target = yaw_of_down_rotation(T[:3, :3])
        self.finger_target = float(finger)

    def targets(self, action: np.ndarray) -> tuple[np.ndarray, float]:
        """Return (7 arm joint targets, finger opening) for one action; updates the internal target."""
        a = np.minimum(np.maximum(np.asarray(action, dtype=np.float64), -1.0), 1.0)  # np.clip costs 3x more here
        if a.shape != (self.action_dim,):
            raise ValueError(f"action must have shape ({self.action_dim},) for mode {self.cfg.mode}, got {a.shape}")
        if self.cfg.mode == "ee_delta":
            self.pos_target = np.minimum(np.maximum(self.pos_target + a[:3] * self.cfg.max_pos_delta, self.low),
                                         self.high)
            self.yaw_target = float(self.yaw_target + a[3] * self.cfg.max_yaw_delta)
            R = down_rotation(self.yaw_target)
            self.q_target = self.kin.ik(self.pos_target, R, self.q_target, q_rest=self.q_rest)
        else:
            self.q_target = np.clip(np.asarray(action[:7], float), self.kin.lower, self.kin.upper)
            T = self.kin.fk(self.q_target)
            self.pos_target = T[:3, 3].copy()
        self.finger_target = gripper_to_finger(a[-1])
        return self.q_target.copy(), self.finger_target
