"""robosynth's side of the peers benchmark: one child process per case, run with robosynth's ``.venv``.

    python benchmarks/peers/robosynth_cases.py mj_state --seconds 3 --seed 0

Cases (all ``robosynth/PickPlace-v0`` through ``gym.make``, uniform random actions):

- ``mj_state`` / ``pb_state``: MuJoCo / PyBullet, ``obs_mode="state"``.
- ``mj_bare``: the ceiling, only ``substeps`` x ``mujoco.mj_step`` on the env's own model and data per step.
- ``mj_rgbd_fast`` / ``mj_rgbd_default`` / ``pb_rgbd``: ``obs_mode="rgbd"`` (RGB + depth), the agentview camera
  at 128x128, MuJoCo quality ``fast`` / ``default``; ``mj_rgbdseg_fast``: ``obs_mode="rgbd_seg"`` (+ instance
  segmentation, what robosuite's camera case renders). The child reports the modalities the env really rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _loop import Case, child_main, gym_case

ENV_ID = "robosynth/PickPlace-v0"
DISTS = ("robosynth", "mujoco", "pybullet", "gymnasium", "numpy")
MODALITIES = (("RGB", "rgb"), ("D", "depth"), ("seg", "segmentation"))  # short name, Frame attribute


def _make(backend: str, obs_mode: str, quality: str = "fast") -> Any:
    """Return ``gym.make(ENV_ID, ...)``; camera cases get one 128x128 agentview camera."""
    import gymnasium as gym

    import robosynth  # noqa: F401 - registers the ids

    kwargs: dict[str, Any] = {"backend": backend, "obs_mode": obs_mode, "quality": quality}
    if obs_mode != "state":
        kwargs.update(resolution=(128, 128), cameras=["agentview"])
    return gym.make(ENV_ID, **kwargs)


def _control_dt(env: Any) -> tuple[float, str]:
    """Return the simulated seconds per env.step and where they come from (the scene's physics section)."""
    physics = env.unwrapped.scene_spec.physics
    return physics.timestep * physics.substeps, f"substeps {physics.substeps} x timestep {physics.timestep}"


def env_case(backend: str, obs_mode: str, quality: str = "fast") -> Callable[[int], Case]:
    """Return a factory of ``env.step`` cases for one backend / observation mode / quality."""

    def make(seed: int) -> Case:
        env = _make(backend, obs_mode, quality)
        dt, source = _control_dt(env)
        case = gym_case(env, seed, dt, source, DISTS)  # resets, so last_frames holds the first frames
        case.notes.update(backend=backend, obs_mode=obs_mode,
                          quality=quality if obs_mode != "state" and backend == "mujoco" else None)
        for frame in env.unwrapped.last_frames.values():
            case.notes["modalities"] = "+".join(short for short, attr in MODALITIES if getattr(frame, attr) is not None)
        return case

    return make


def bare_case(seed: int) -> Case:
    """Return the bare MuJoCo loop: ``substeps`` x ``mj_step`` on the env's model/data, nothing else."""
    import mujoco

    env = _make("mujoco", "state")
    env.reset(seed=seed)
    sim = env.unwrapped.sim
    model, data, substeps = sim.backend.model, sim.backend.data, sim.substeps
    dt, source = _control_dt(env)

    def step(_: object) -> bool:
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        return False

    return Case(act=lambda: None, step=step, reset=lambda: None, close=env.close, control_dt=dt,
                dt_source=source, dists=DISTS, notes={"substeps": substeps})


CASES: dict[str, Callable[[int], Case]] = {
    "mj_state": env_case("mujoco", "state"),
    "mj_bare": bare_case,
    "pb_state": env_case("pybullet", "state"),
    "mj_rgbd_fast": env_case("mujoco", "rgbd", "fast"),
    "mj_rgbd_default": env_case("mujoco", "rgbd", "default"),
    "mj_rgbdseg_fast": env_case("mujoco", "rgbd_seg", "fast"),
    "pb_rgbd": env_case("pybullet", "rgbd"),
}

if __name__ == "__main__":
    raise SystemExit(child_main(CASES))
