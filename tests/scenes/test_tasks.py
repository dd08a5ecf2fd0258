"""Built-in tasks reach, push and stack: experts, rewards, success definitions, observations, gym envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robosynth  # noqa: F401  (registers the gym ids)
from scenes.loader import load_scene
from scenes.runtime import Simulation
from sim.backend import EE_LINK

SEEDS = list(range(20))
OBS_DIM = {"reach": 6, "push": 13, "stack": 17}
UP = np.array([1.0, 0.0, 0.0, 0.0])


def _sim(scene: str, backend: str) -> Simulation:
    return Simulation(load_scene(scene), backend)


@pytest.mark.parametrize("scene", ["reach", "push", "stack"])
def test_expert_success_rate_and_reward_contract(scene, backend):
    sim = _sim(scene, backend)
    horizon = sim.spec.task.horizon
    successes = 0
    for seed in SEEDS:
        obs = sim.reset(np.random.default_rng(seed))
        expert = sim.task.expert()
        for _ in range(horizon):
            action = expert.act(obs)
            assert action.shape == (5,) and np.all(np.abs(action) <= 1.0)
            r = sim.step(action)
            assert not r.info["failure_reason"], r.info
            obs = r.obs
            assert obs["object"].dtype == np.float32 and obs["object"].shape == (OBS_DIM[scene],)
            assert -2.0 <= r.reward <= 0.0, r.reward  # dense: minus distances in metres (docs/tasks.md)
            if r.terminated or r.truncated:
                break
        successes += bool(r.info["success"])
    sim.close()
    assert successes / len(SEEDS) >= 0.9, f"{scene} on {backend}: {successes}/{len(SEEDS)}"


@pytest.mark.parametrize("scene", ["reach", "push", "stack"])
def test_reset_is_a_function_of_the_rng_and_stays_in_the_regions(scene):
    sim = _sim(scene, "mujoco")
    first = sim.reset(np.random.default_rng(5))["object"]
    other = sim.reset(np.random.default_rng(6))["object"]
    again = sim.reset(np.random.default_rng(5))["object"]
    sim.close()
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    p = sim.task.p
    if scene == "reach":
        lo, hi = np.asarray(p["target_region"])
        assert np.all(first[:3] >= lo - 1e-6) and np.all(first[:3] <= hi + 1e-6)
    elif scene == "push":
        d = np.linalg.norm(first[7:9] - first[0:2])
        assert p["min_distance"] - 1e-6 <= d <= p["max_distance"] + 1e-6
        assert first[9] == pytest.approx(0.401, abs=1e-6)  # goal disc lies on the table top
    else:
        assert np.linalg.norm(first[7:9] - first[0:2]) >= p["min_separation"] - 1e-6


def test_object_obs_layout(backend):
    for scene in ("reach", "push", "stack"):
        sim = _sim(scene, backend)
        o = sim.reset(np.random.default_rng(0))["object"].astype(float)
        be = sim.backend
        ee, _ = be.body_pose(EE_LINK)
        if scene == "reach":
            tp, _ = be.body_pose("target")
            expected = [tp, tp - ee]
        elif scene == "push":
            cp, cq = be.body_pose("cube")
            gp, _ = be.body_pose("goal")
            expected = [cp, cq, gp, cp - ee]
        else:
            ap, aq = be.body_pose("cube_a")
            bp, bq = be.body_pose("cube_b")
            expected = [ap, aq, bp, bq, ap - ee]
        sim.close()
        np.testing.assert_allclose(o, np.concatenate(expected), atol=1e-6, err_msg=scene)


def test_reach_success_is_within_two_centimetres():
    sim = _sim("reach", "mujoco")
    sim.reset(np.random.default_rng(0))
    be, task = sim.backend, sim.task
    ee, _ = be.body_pose(EE_LINK)
    be.set_body_pose("target", ee + np.array([0.0, 0.019, 0.0]), UP)
    on = (task.success(be), task.reward(be))
    be.set_body_pose("target", ee + np.array([0.0, 0.021, 0.0]), UP)
    off = (task.success(be), task.reward(be))
    sim.close()
    assert on[0] is True and on[1] == pytest.approx(-0.019, abs=1e-9)  # dense reach reward = -d(ee, target)
    assert off[0] is False and off[1] == pytest.approx(-0.021, abs=1e-9)


def test_push_success_is_cube_xy_near_goal(backend):
    sim = _sim("push", backend)
    sim.reset(np.random.default_rng(0))
    be, task = sim.backend, sim.task
    gp, _ = be.body_pose("goal")
    be.set_body_pose("cube", np.array([gp[0] + 0.025, gp[1], 0.425]), UP)
    on = (task.success(be), task.reward(be))
    be.set_body_pose("cube", np.array([gp[0] + 0.035, gp[1], 0.425]), UP)
    off = (task.success(be), task.reward(be))
    ee, _ = be.body_pose(EE_LINK)
    cp, _ = be.body_pose("cube")
    sim.close()
    assert on[0] is True and off[0] is False
    # dense push reward = -(d(ee, cube) + d_xy(cube, goal))
    assert off[1] == pytest.approx(-(np.linalg.norm(ee - cp) + 0.035), abs=1e-6)
    assert off[1] < on[1] < 0.0


def test_stack_success_needs_cube_a_resting_on_cube_b(backend):
    sim = _sim("stack", backend)
    sim.reset(np.random.default_rng(0))
    be, task = sim.backend, sim.task
    bp, bq = be.body_pose("cube_b")
    hold = np.array([0.0, 0.0, 0.0, 0.0, -1.0])
    be.set_body_pose("cube_a", bp + np.array([0.03, 0.0, 0.0455]), bq)  # overhangs: xy 3 cm off
    for _ in range(5):
        sim.step(hold)
    off_centre = task.success(be)
    bp, bq = be.body_pose("cube_b")
    be.set_body_pose("cube_a", bp + np.array([0.005, 0.0, 0.0455]), bq)
    for _ in range(5):
        sim.step(hold)
    ap, _ = be.body_pose("cube_a")
    bp, _ = be.body_pose("cube_b")
    stacked = (task.success(be), task.reward(be))
    sim.close()
    assert off_centre is False
    assert abs(ap[2] - bp[2] - 0.045) < 0.002
    # placed: the dense reward is -d(cube_a, cube_b + [0, 0, 0.045]) alone
    assert stacked[0] is True and stacked[1] == pytest.approx(-np.linalg.norm(ap - bp - [0, 0, 0.045]), abs=1e-6)


@pytest.mark.parametrize(("scene", "env_id", "backend"), [
    ("reach", "robosynth/Reach-v0", "mujoco"),
    ("push", "robosynth/Push-v0", "pybullet"),
    ("stack", "robosynth/Stack-v0", "mujoco"),
])
def test_gym_env_check(scene, env_id, backend):
    env = gym.make(env_id, backend=backend, obs_mode="state")
    assert env.unwrapped.scene_spec.name == scene
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert obs["object"].shape == (OBS_DIM[scene],)
    env.close()


def _with_reward_type(scene: str, reward_type: str):
    spec = load_scene(scene)
    params = {**spec.task.params, "reward_type": reward_type}
    return spec.model_copy(update={"task": spec.task.model_copy(update={"params": params})})


@pytest.mark.parametrize("scene", ["reach", "push", "pick_place", "stack", "clutter"])
def test_sparse_reward_is_zero_exactly_on_success(scene):
    spec = _with_reward_type(scene, "sparse")
    sim = Simulation(spec, "mujoco")
    obs = sim.reset(np.random.default_rng(0))
    expert = sim.task.expert()
    for _ in range(spec.task.horizon):
        r = sim.step(expert.act(obs))
        obs = r.obs
        assert r.reward == (0.0 if r.info["success"] else -1.0), (r.reward, r.info)
        if r.terminated or r.truncated:
            break
    sim.close()
    assert r.info["success"]


def test_dense_reach_reward_slopes_over_the_whole_workspace():
    sim = _sim("reach", "mujoco")
    sim.reset(np.random.default_rng(0))
    be, task = sim.backend, sim.task
    ee, _ = be.body_pose(EE_LINK)
    rewards = []
    for d in (0.05, 0.15, 0.30, 0.45):
        be.set_body_pose("target", ee + np.array([0.0, 0.0, -d]), UP)
        rewards.append(task.reward(be))
    sim.close()
    np.testing.assert_allclose(rewards, [-0.05, -0.15, -0.30, -0.45], atol=1e-9)


def test_reward_type_is_validated_and_reaches_the_gym_env():
    from sim.errors import SceneError

    with pytest.raises(SceneError, match="reward_type"):
        Simulation(_with_reward_type("reach", "shaped"), "mujoco")
    env = gym.make("robosynth/Reach-v0", backend="mujoco", reward_type="sparse")
    env.reset(seed=0)
    rewards = {env.step(np.zeros(5, np.float32))[1] for _ in range(3)}
    env.close()
    assert rewards == {-1.0}
