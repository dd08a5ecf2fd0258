"""robosynth's side of the peers benchmark: one child process per case, run with robosynth's ``.venv``.

    python benchmarks/peers/robosynth_cases.py mj_state --seconds 3 --seed 0

Cases (all ``robosynth/PickPlace-v0`` through ``gym.make``, uniform random actions):

- ``mj_state`` / ``pb_state``: MuJoCo / PyBullet, ``obs_mode="state"``.
- ``mj_bare``: only ``substeps`` x ``mujoco.mj_step`` on the env's own model and data per step, the robot holding
  still (what the engine costs when nothing moves).
- ``mj_bare_motion`` / ``pb_bare_motion``: the ceiling for the same work: ``REPLAY_EPISODES`` episodes of the env
  under uniform random actions are recorded first (untimed: each episode's start state and every step's joint
  targets), then replayed with only the engine's calls per step (MuJoCo: write ``data.ctrl``, ``mj_step`` x
  substeps; PyBullet: the two motor-target calls, ``stepSimulation`` x substeps), resetting to the recorded start
  state between episodes like the env case resets. The replay repeats the recorded motion exactly (the child
  checks the final joint positions of the first episode and reports it as ``replay_exact``).
- ``mj_rgbd_fast`` / ``mj_rgbd_default`` / ``pb_rgbd``: ``obs_mode="rgbd"`` (RGB + depth), the agentview camera
  at 128x128, MuJoCo quality ``fast`` / ``default``; ``mj_rgbdseg_fast``: ``obs_mode="rgbd_seg"`` (+ instance
  segmentation, what robosuite's camera case renders). The child reports the modalities the env really rendered.
- ``mj_rgbd_fast_expert`` / ``mj_rgbdseg_fast_expert``: the same two MuJoCo camera cases with the task's scripted
  expert choosing the actions (the episodes ``generate`` records) instead of uniform random ones.
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


def expert_case(obs_mode: str) -> Callable[[int], Case]:
    """Return a factory of MuJoCo ``fast`` 128x128 agentview ``env.step`` cases whose actions come from the task's
    scripted expert, the one ``generate`` records (random actions keep the arm out of the cube's way, and of the
    camera's view: cheaper frames and contacts). The expert's ``act`` runs untimed, like the action sampling of
    the other cases; an episode the expert ends (``PolicyFailure``) is reset, untimed."""

    def make(seed: int) -> Case:
        import numpy as np

        from robosynth.generate.recording import PolicyFailure

        env = _make("mujoco", obs_mode, "fast")
        dt, source = _control_dt(env)
        state: dict[str, Any] = {}

        def reset(episode_seed: int | None = None) -> None:
            state["obs"], _ = env.reset(seed=episode_seed)
            state["expert"] = env.unwrapped.sim.task.expert()
            state["expert"].reset()

        def act() -> Any:
            for _ in range(100):
                try:
                    return np.asarray(state["expert"].act(state["obs"]), dtype=np.float32)
                except PolicyFailure:
                    reset()
            raise RuntimeError("the scripted expert gave up on 100 episodes in a row")

        def step(action: Any) -> bool:
            state["obs"], _, terminated, truncated, _ = env.step(action)
            return bool(terminated or truncated)

        reset(seed)
        frames = env.unwrapped.last_frames.values()
        rendered = "+".join(short for short, attr in MODALITIES if any(getattr(f, attr) is not None for f in frames))
        return Case(act=act, step=step, reset=reset, close=env.close, control_dt=dt, dt_source=source, dists=DISTS,
                    notes={"backend": "mujoco", "obs_mode": obs_mode, "quality": "fast", "actions": "expert",
                           "modalities": rendered})

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


REPLAY_EPISODES = 12


def _record(env: Any, seed: int, snapshot: Callable[[], Any], targets: Callable[[], Any],
            joints: Callable[[], Any]) -> list[tuple[Any, list[Any], Any]]:
    """Run ``REPLAY_EPISODES`` episodes of uniform random actions; return (start state, targets per step, final
    joint positions) for each."""
    import numpy as np

    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    env.reset(seed=seed)
    episodes = []
    for _ in range(REPLAY_EPISODES):
        start, steps, ended = snapshot(), [], False
        while not ended:
            _, _, terminated, truncated, _ = env.step(rng.uniform(low, high).astype(env.action_space.dtype))
            steps.append(targets())
            ended = terminated or truncated
        episodes.append((start, steps, joints()))
        env.reset()
    return episodes


def replay_case(episodes: list[tuple[Any, list[Any], Any]], restore: Callable[[Any], None],
                step_engine: Callable[[Any], None], joints: Callable[[], Any], close: Callable[[], object],
                control: tuple[float, str], notes: dict[str, Any]) -> Case:
    """Return a Case replaying ``episodes`` (from :func:`_record`) through ``step_engine`` alone."""
    import numpy as np

    at = {"episode": -1, "step": 0}

    def reset() -> None:
        at["episode"], at["step"] = (at["episode"] + 1) % len(episodes), 0
        restore(episodes[at["episode"]][0])

    def step(_: object) -> bool:
        steps = episodes[at["episode"]][1]
        step_engine(steps[at["step"]])
        at["step"] += 1
        return at["step"] >= len(steps)

    reset()  # check once, untimed, that the replay reproduces the first recorded episode
    while not step(None):
        pass
    notes.update(replay_exact=bool(np.array_equal(joints(), episodes[0][2])), replay_episodes=len(episodes),
                 replay_steps=sum(len(e[1]) for e in episodes))
    at["episode"] = -1
    return Case(act=lambda: None, step=step, reset=reset, close=close, control_dt=control[0], dt_source=control[1],
                dists=DISTS, notes=notes)


def mj_motion_case(seed: int) -> Case:
    """Return the MuJoCo replay: per step ``data.ctrl[:] = targets``, ``mj_step`` x substeps."""
    import mujoco

    env = _make("mujoco", "state")
    sim = env.unwrapped.sim
    model, data, substeps = sim.backend.model, sim.backend.data, sim.substeps
    kind = mujoco.mjtState.mjSTATE_INTEGRATION
    size = mujoco.mj_stateSize(model, kind)

    def snapshot() -> Any:
        import numpy as np

        out = np.empty(size)
        mujoco.mj_getState(model, data, out, kind)
        return out

    def restore(state: Any) -> None:
        mujoco.mj_setState(model, data, state, kind)
        mujoco.mj_forward(model, data)

    def step_engine(ctrl: Any) -> None:
        data.ctrl[:] = ctrl
        mujoco.mj_step(model, data, nstep=substeps)

    def joints() -> Any:
        return data.qpos.copy()

    episodes = _record(env, seed, snapshot, lambda: data.ctrl.copy(), joints)
    return replay_case(episodes, restore, step_engine, joints, env.close, _control_dt(env), {"substeps": substeps})


def pb_motion_case(seed: int) -> Case:
    """Return the PyBullet replay: per step the motor targets, ``stepSimulation`` x substeps."""
    env = _make("pybullet", "state")
    sim = env.unwrapped.sim
    backend, substeps = sim.backend, sim.substeps
    step_simulation = backend.client.stepSimulation

    def step_engine(targets: Any) -> None:
        backend.set_joint_targets(targets[:7], float(targets[7]))
        for _ in range(substeps):
            step_simulation()

    episodes = _record(env, seed, backend.get_state, lambda: backend.get_state(exact=False)[1:10].copy(),
                       backend.joint_positions)
    return replay_case(episodes, backend.set_state, step_engine, backend.joint_positions, env.close,
                       _control_dt(env), {"substeps": substeps})


CASES: dict[str, Callable[[int], Case]] = {
    "mj_state": env_case("mujoco", "state"),
    "mj_bare": bare_case,
    "mj_bare_motion": mj_motion_case,
    "pb_bare_motion": pb_motion_case,
    "pb_state": env_case("pybullet", "state"),
    "mj_rgbd_fast": env_case("mujoco", "rgbd", "fast"),
    "mj_rgbd_default": env_case("mujoco", "rgbd", "default"),
    "mj_rgbdseg_fast": env_case("mujoco", "rgbd_seg", "fast"),
    "pb_rgbd": env_case("pybullet", "rgbd"),
    "mj_rgbd_fast_expert": expert_case("rgbd"),
    "mj_rgbdseg_fast_expert": expert_case("rgbd_seg"),
}

if __name__ == "__main__":
    raise SystemExit(child_main(CASES))
