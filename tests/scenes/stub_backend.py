"""A stand-in engine for exercising tasks without physics (used by the scene fuzzer)."""

from __future__ import annotations

import numpy as np

from sim.backend import EE_LINK


class StubBackend:
    """Just enough of the Backend protocol for a task: poses of the scene's objects, no physics."""

    def __init__(self, spec):
        from sim.object_joints import articulated_objects, load_urdf

        self.poses = {o.name: (np.array(o.pose.pos, float), np.array(o.pose.quat, float)) for o in spec.objects}
        self.poses[EE_LINK] = (np.array([0.45, 0.0, 0.6]), np.array([0.0, 1.0, 0.0, 0.0]))
        self.joints = articulated_objects(spec, None)  # built-in scenes: assets resolve without a scene folder
        for o in spec.objects:
            if o.shape == "articulated":  # every link at the object's pose: enough for observations
                self.poses.update({f"{o.name}/{link}": self.poses[o.name] for link in load_urdf(o, None).links})

    def object_joint_names(self, name):
        return self.joints[name].names

    def object_joint_state(self, name):
        return self.joints[name].initial.copy(), np.zeros_like(self.joints[name].initial)

    def set_body_pose(self, name, pos, quat) -> None:
        _ = self.poses[name]  # KeyError for an unknown body, like the engines
        self.poses[name] = (np.asarray(pos, float), np.asarray(quat, float))

    def body_pose(self, name):
        return self.poses[name]

    def contacts(self) -> list:
        return []

    def touching(self, body: str) -> set[str]:
        return set()

    def joint_positions(self) -> np.ndarray:
        return np.array([0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785398, 0.04, 0.04])
