"""Apply sampled ``EpisodeParams`` to a live world (the engine half of domain randomization).

Sampling is pure (``randomization.params``); this module only writes the sampled values into an engine
through the backends' setters, the scene renderer's camera setter, the action perturbation and the
sensor models. Every value is written absolutely, so the result never depends on earlier episodes.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from randomization.params import EpisodeParams
from renderers.noise import SensorModel

if TYPE_CHECKING:
    from renderers.sensors import Frame, SceneRenderer
    from scenes.runtime import Simulation

ARM_DAMPING = 1.0  # nominal arm joint damping (N m s / rad) that ``joint_damping_scale`` multiplies


def apply_params(sim: Simulation, renderer: SceneRenderer | None, params: EpisodeParams) -> None:
    """Write an episode's parametric values into ``sim`` (a scenes.runtime.Simulation) and ``renderer``.

    Call after ``sim.reset`` (which restores the pristine state and lets the task place its objects).
    """
    b = sim.backend
    vis = params.visual
    for name, rgba in vis.get("rgba", {}).items():
        b.set_object_rgba(name, rgba)
    for name, tex in vis.get("textures", {}).items():
        b.set_texture(name, tex)  # engines without a texture slot for ``name`` paint the mean colour
    for name, light in vis.get("lights", {}).items():
        b.set_light(name, pos=light.get("pos"), direction=light.get("dir"), diffuse=light.get("diffuse"),
                    ambient=light.get("ambient"))
    phys = params.physical
    for name, mass in phys.get("mass", {}).items():
        b.set_object_mass(name, mass)
    for name, friction in phys.get("friction", {}).items():
        b.set_object_friction(name, friction)
    for name, e in phys.get("restitution", {}).items():
        b.set_object_restitution(name, e)
    if "joint_damping_scale" in phys:
        b.set_joint_damping(ARM_DAMPING * phys["joint_damping_scale"])
    if "gravity" in phys:
        b.set_gravity(phys["gravity"])
    for name, factors in phys.get("joint_dynamics_scale", {}).items():  # on the URDF's (nominal) values
        damping, friction = b.object_joint_dynamics(name)
        b.set_object_joint_dynamics(name, damping * factors.get("damping", 1.0),
                                    friction * factors.get("friction", 1.0))
    for name, pose in params.placement.items():
        b.set_body_pose(name, np.asarray(pose["pos"], float), np.asarray(pose["quat"], float))
    for d in params.distractors:
        b.set_body_pose(d["name"], np.asarray(d["pos"], float), np.asarray(d["quat"], float))
        b.set_object_rgba(d["name"], d["rgba"])
    robot = params.robot
    if "gain_scale" in robot:
        b.set_gain_scale(robot["gain_scale"])
    b.finalize_params()
    if "init_qpos" in robot:
        q = np.concatenate([np.asarray(robot["init_qpos"], float), b.joint_positions()[7:9]])
        b.set_joint_positions(q)
        sim.controller.reset(q[:7], float(q[7]))
    if renderer is not None:  # every camera is written: the ones not randomized go back to the scene's
        for name in renderer.cameras:
            renderer.set_camera(name, **params.camera.get(name, {}))


def begin_episode(sim: Simulation, renderer: SceneRenderer | None, params: EpisodeParams, dataset_seed: int,
                  index: int) -> tuple[dict[str, np.ndarray], EpisodePerturbation, np.random.Generator]:
    """Start episode ``index``: pristine world, task placement, params applied.

    Returns (first observation, action perturbation, sensor-noise generator). Every entry point that runs
    an episode (recording, replay, Gymnasium) starts it here, so they agree bit for bit.
    """
    from randomization.seeding import stream

    sim.backend.restore_nominal_params()
    sim.reset(stream(dataset_seed, index, "task"))
    apply_params(sim, renderer, params)
    perturb = EpisodePerturbation(params, stream(dataset_seed, index, "action_noise"))
    return sim.observe(), perturb, stream(dataset_seed, index, "sensor_noise")


@dataclasses.dataclass
class EpisodePerturbation:
    """Action noise (Gaussian, std in action units, clipped to [-1, 1]) and latency (k control steps).

    With latency k the engine executes the action commanded k steps earlier; the first k steps execute
    the neutral action (zero motion, gripper unchanged = the first commanded gripper value).
    """

    params: EpisodeParams
    rng: np.random.Generator
    _queue: deque = dataclasses.field(default_factory=deque)

    def effective(self, action: np.ndarray) -> np.ndarray:
        """Return the action the engine executes this step."""
        a = np.asarray(action, dtype=np.float64)
        std = float(self.params.action.get("noise_std", 0.0))
        if std > 0:
            a = np.clip(a + self.rng.normal(0.0, std, a.shape), -1.0, 1.0)
        k = int(self.params.action.get("latency", 0))
        if k <= 0:
            return a
        if not self._queue:
            neutral = np.zeros_like(a)
            neutral[-1] = a[-1]
            self._queue.extend([neutral] * k)
        self._queue.append(a)
        return self._queue.popleft()


def apply_sensor_noise(frames: dict[str, Frame], params: EpisodeParams,
                       rng: np.random.Generator) -> dict[str, Frame]:
    """Return frames with each camera's sampled sensor model applied (depth kept in [near, far], 0 = hole)."""
    if not params.sensor:
        return frames
    out = {}
    for name, f in frames.items():
        model = SensorModel.from_params(params.sensor.get(name))
        if model.is_identity:
            out[name] = f
            continue
        rgb, depth = model.apply(f.rgb, f.depth, rng)
        if depth is not None:
            near, far = f.intrinsics.near, f.intrinsics.far
            depth = np.where(depth > 0, np.clip(depth, near, far), 0.0).astype(np.float32)
        out[name] = dataclasses.replace(f, rgb=rgb, depth=depth)
    return out
