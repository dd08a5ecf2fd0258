"""A Gymnasium loop on a robosynth environment: the scripted expert, then a random policy, with success rates.

    python examples/gym_loop.py [--backend mujoco|pybullet] [--episodes N]

The same loop trains a learner: replace ``policy`` with your agent's ``predict``. ``info["is_success"]`` is the
key Stable-Baselines3, gymnasium-robotics and panda-gym read.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import robosynth  # noqa: F401  (registers the robosynth/... ids)


def run(env: gym.Env, policy, episodes: int, seed: int) -> float:
    """Return the success rate of ``policy(obs)`` over ``episodes`` episodes."""
    successes = 0
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        while True:
            obs, _reward, terminated, truncated, info = env.step(policy(obs))
            if terminated or truncated:
                successes += int(info["is_success"])
                break
    return successes / episodes


def main() -> None:
    """Run the expert and a random policy on Reach-v0 and print their success rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="mujoco", choices=["mujoco", "pybullet"])
    parser.add_argument("--episodes", type=int, default=3)
    args = parser.parse_args()
    env = gym.make("robosynth/Reach-v0", backend=args.backend)
    expert = env.unwrapped.sim.task.expert()
    rng = np.random.default_rng(0)
    print(f"expert success {run(env, expert.act, args.episodes, seed=0):.0%}")
    print(f"random success {run(env, lambda obs: rng.uniform(-1, 1, env.action_space.shape), args.episodes, 0):.0%}")
    env.close()


if __name__ == "__main__":
    main()
