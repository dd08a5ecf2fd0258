"""Failure-focused sampling: Thompson sampling concentrates episodes in the bins where a policy fails."""

from __future__ import annotations

from randomization.focus import FocusState
from randomization.load import validate_randomization
from randomization.seeding import stream
from scenes.loader import load_scene


def _config() -> dict:
    spec = load_scene("pick_place")
    return validate_randomization({"robot": {"gain_scale": {"dist": "uniform", "low": 0.5, "high": 1.5}},
                                   "action": {"noise_std": {"dist": "uniform", "low": 0.0, "high": 0.4}}},
                                  spec).to_dict()


def test_thompson_sampling_spends_episodes_where_the_policy_fails():
    state = FocusState(_config(), bins=4)
    assert [r.name for r in state.ranges] == ["robot.gain_scale", "action.noise_std"]
    counts = [0, 0, 0, 0]
    for i in range(300):
        data, bins = state.episode_config(stream(1, i, "focus"))
        b = bins["action.noise_std"]
        lo, hi = data["action"]["noise_std"]["low"], data["action"]["noise_std"]["high"]
        assert abs(lo - 0.1 * b) < 1e-12 and abs(hi - 0.1 * (b + 1)) < 1e-12  # the parameter stays in its bin
        counts[b] += 1
        state.update(bins, success=b != 3)  # the policy fails only with the strongest action noise
    assert counts[3] > 0.7 * 300  # most of the budget goes where the policy fails
    post = state.posterior()["action.noise_std"]
    assert post["failures"] == [0, 0, 0, counts[3]] and sum(post["successes"]) == 300 - counts[3]
    assert post["failure_mean"][3] > 0.95 > max(post["failure_mean"][:3])
    gain = state.posterior()["robot.gain_scale"]
    assert sum(gain["failures"]) + sum(gain["successes"]) == 300


def test_draws_are_a_function_of_the_stream():
    a, b = FocusState(_config(), 3), FocusState(_config(), 3)
    assert a.episode_config(stream(0, 5, "focus")) == b.episode_config(stream(0, 5, "focus"))
