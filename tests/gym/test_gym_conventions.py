"""The Gymnasium conventions RL libraries rely on: ``info["is_success"]`` on every step (SB3 ``Monitor``,
``EvalCallback``, HER; gymnasium-robotics; panda-gym) and ids that subprocess vector envs can make."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import robosynth  # noqa: F401  (registers the ids)


def monitor_episode(env: gym.Env, policy, info_keywords=("is_success",), seed: int = 0) -> dict:
    """Run one episode the way Stable-Baselines3's ``Monitor`` records it and return its ``info["episode"]``.

    SB3 (common/monitor.py): at ``terminated or truncated`` it builds ``ep_info = {"r", "l", "t"}`` and then
    ``ep_info[key] = info[key]`` for every key of ``info_keywords``, so a missing key raises KeyError.
    """
    obs, _ = env.reset(seed=seed)
    rewards: list[float] = []
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        assert isinstance(info["is_success"], bool) and info["is_success"] == info["success"]
        rewards.append(float(reward))
        if terminated or truncated:
            ep_info = {"r": round(sum(rewards), 6), "l": len(rewards), "t": 0.0}
            for key in info_keywords:
                ep_info[key] = info[key]
            return ep_info


def test_is_success_on_every_step_success_and_truncation(backend):
    env = gym.make("robosynth/Reach-v0", backend=backend).unwrapped
    expert = env.sim.task.expert()
    solved = monitor_episode(env, expert.act)
    assert solved["is_success"] is True
    env.sim.spec = env.sim.spec.model_copy(update={"task": env.sim.spec.task.model_copy(update={"horizon": 5})})
    idle = monitor_episode(env, lambda obs: np.zeros(env.action_space.shape, np.float32))
    assert idle["is_success"] is False and idle["l"] == 5
    env.close()


def test_real_sb3_monitor_reads_is_success():
    monitor = pytest.importorskip("stable_baselines3.common.monitor")
    env = monitor.Monitor(gym.make("robosynth/Reach-v0", backend="mujoco"), info_keywords=("is_success",))
    expert = env.unwrapped.sim.task.expert()
    obs, _ = env.reset(seed=1)
    while True:
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        if terminated or truncated:
            break
    assert info["episode"]["is_success"] is True
    env.close()


@pytest.mark.parametrize("context", ["spawn", "forkserver"])
def test_subprocess_vector_env_with_module_prefixed_id(context):
    """A spawned child has not imported robosynth: ``robosynth:robosynth/...`` makes gym import it there."""
    envs = gym.vector.AsyncVectorEnv(
        [lambda: gym.make("robosynth:robosynth/PickPlace-v0", backend="mujoco") for _ in range(2)], context=context)
    try:
        obs, _ = envs.reset(seed=[1, 2])
        _, rew, _, _, info = envs.step(envs.action_space.sample())
        assert obs["object"].shape[0] == 2 and rew.shape == (2,)
        assert info["is_success"].dtype == bool and info["is_success"].shape == (2,)
    finally:
        envs.close()
