"""The peers' side of the peers benchmark: one child process per case, run with ``.bench-peers-venv``.

    .bench-peers-venv/bin/python benchmarks/peers/peer_cases.py lift_state --seconds 3 --seed 0

Cases (uniform random actions in each env's action space; control periods read from the env):

- ``lift_state`` / ``lift_cam``: robosuite ``Lift`` with a Panda (its default controller), no renderer and
  ``use_camera_obs=False`` / one 128x128 ``agentview`` camera with RGB + depth + instance segmentation.
- ``fetch_state`` / ``fetch_cam``: gymnasium-robotics ``FetchPickAndPlace`` (newest version registered),
  plain / ``render_mode="rgb_array"`` at 128x128 with ``env.render()`` after every step (RGB only).
- ``panda_state`` / ``panda_cam``: panda-gym ``PandaPickAndPlace-v3`` (PyBullet), plain / ``env.render()``
  after every step at ``render_width``/``render_height`` 128 (TinyRenderer, which always rasterises
  depth and segmentation along with RGB).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from _loop import Case, child_main, gym_case

RESOLUTION = 128


def lift(camera: bool) -> Callable[[int], Case]:
    """Return a factory of robosuite Lift cases (``env.step`` returns obs, reward, done, info)."""

    def make(seed: int) -> Case:
        import numpy as np
        import robosuite as suite

        kwargs: dict[str, Any] = {"robots": "Panda", "has_renderer": False, "use_camera_obs": camera,
                                  "has_offscreen_renderer": camera}
        if camera:
            kwargs.update(camera_names="agentview", camera_heights=RESOLUTION, camera_widths=RESOLUTION,
                          camera_depths=True, camera_segmentations="instance")
        env = suite.make("Lift", **kwargs)
        env.reset()
        low, high = env.action_spec
        rng = np.random.default_rng(seed)

        def step(action: Any) -> bool:
            return bool(env.step(action)[2])

        return Case(act=lambda: rng.uniform(low, high), step=step, reset=env.reset, close=env.close,
                    control_dt=float(env.control_timestep),
                    dt_source=f"1 / control_freq {env.control_freq} (model timestep {env.model_timestep})",
                    dists=("robosuite", "mujoco", "numpy"),
                    notes={"horizon": env.horizon, **({"modalities": "RGB+D+seg"} if camera else {})})

    return make


def fetch_id() -> str:
    """Return the newest registered ``FetchPickAndPlace-v*`` id."""
    import gymnasium as gym
    import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)
    ids = [k for k in gym.registry if re.fullmatch(r"FetchPickAndPlace-v\d+", k)]
    return max(ids, key=lambda k: int(k.rsplit("v", 1)[1]))


def fetch(camera: bool) -> Callable[[int], Case]:
    """Return a factory of gymnasium-robotics Fetch pick-and-place cases."""

    def make(seed: int) -> Case:
        import gymnasium as gym

        env_id = fetch_id()
        kwargs: dict[str, Any] = {}
        if camera:
            kwargs.update(render_mode="rgb_array", width=RESOLUTION, height=RESOLUTION)
        env = gym.make(env_id, **kwargs)
        u: Any = env.unwrapped
        source = f"n_substeps {u.n_substeps} x timestep {u.model.opt.timestep}"
        case = gym_case(env, seed, float(u.dt), source, ("gymnasium-robotics", "gymnasium", "mujoco", "numpy"),
                        render=camera)
        case.notes.update(env_id=env_id, max_episode_steps=env.spec.max_episode_steps if env.spec else None,
                          **({"modalities": "RGB"} if camera else {}))
        return case

    return make


def panda(camera: bool) -> Callable[[int], Case]:
    """Return a factory of panda-gym PandaPickAndPlace-v3 cases."""

    def make(seed: int) -> Case:
        import gymnasium as gym
        import panda_gym  # noqa: F401 - registers the ids

        kwargs: dict[str, Any] = {"render_mode": "rgb_array"}
        if camera:
            kwargs.update(render_width=RESOLUTION, render_height=RESOLUTION)
        env = gym.make("PandaPickAndPlace-v3", **kwargs)
        unwrapped: Any = env.unwrapped
        sim = unwrapped.sim
        source = f"n_substeps {sim.n_substeps} x timestep {sim.timestep}"
        case = gym_case(env, seed, float(sim.dt), source, ("panda-gym", "pybullet", "gymnasium", "numpy"),
                        render=camera)
        case.notes.update(max_episode_steps=env.spec.max_episode_steps if env.spec else None,
                          **({"modalities": "RGB (D+seg rasterised, discarded)"} if camera else {}))
        return case

    return make


CASES: dict[str, Callable[[int], Case]] = {
    "lift_state": lift(camera=False),
    "lift_cam": lift(camera=True),
    "fetch_state": fetch(camera=False),
    "fetch_cam": fetch(camera=True),
    "panda_state": panda(camera=False),
    "panda_cam": panda(camera=True),
}

if __name__ == "__main__":
    raise SystemExit(child_main(CASES))
