"""``StepReads`` reads each body pose and the joint positions once per step and hands out independent copies."""

from __future__ import annotations

import numpy as np

from scenes.step_reads import StepReads


class CountingBackend:
    def __init__(self):
        self.calls = {"body_pose": 0, "joint_positions": 0}
        self.name = "counting"

    def body_pose(self, name):
        self.calls["body_pose"] += 1
        return np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0, 0.0])

    def joint_positions(self):
        self.calls["joint_positions"] += 1
        return np.arange(9.0)


def test_reads_once_and_returns_copies():
    backend = CountingBackend()
    reads = StepReads(backend)
    p1, _ = reads.body_pose("cube")
    p1[0] = 99.0  # a task may modify what it gets without changing what the next reader sees
    p2, _ = reads.body_pose("cube")
    q1 = reads.joint_positions()
    q1[:] = 0.0
    assert p2[0] == 1.0 and reads.joint_positions()[8] == 8.0
    reads.body_pose("table")
    assert backend.calls == {"body_pose": 2, "joint_positions": 1}
    assert reads.name == "counting"  # everything else is the backend's own
