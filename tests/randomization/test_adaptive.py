"""ADR state machine: ranges widen monotonically to their envelope while episodes succeed, stay at their initial
ranges when every episode fails, pinned bounds are exact, and draws are a function of the seed stream."""

from __future__ import annotations

import numpy as np
import pytest

from randomization.adaptive import AdaptiveState, adaptable_ranges
from randomization.adaptive_settings import AdaptiveSettings
from randomization.load import validate_randomization
from randomization.seeding import stream
from scenes.loader import load_scene
from sim.errors import SceneError

SETTINGS = AdaptiveSettings(queue=3, batch=4, boundary_fraction=0.8, step=0.5, envelope=3.0)


def _physical() -> dict:
    spec = load_scene("pick_place")
    return validate_randomization({"preset": "physical"}, spec).to_dict()


def _run(state: AdaptiveState, episodes: int, succeed) -> list[dict[str, list[float]]]:
    """Drive ``state`` like generate --adaptive (batches, updates in episode order); return ranges per batch."""
    history = [state.current()]
    for start in range(0, episodes, state.settings.batch):
        outcomes = []
        for i in range(start, start + state.settings.batch):
            data, boundary = state.episode_config(stream(5, i, "adr"))
            outcomes.append((boundary, succeed(data, boundary)))
        for boundary, ok in outcomes:
            state.update(boundary, ok)
        history.append(state.current())
    return history


def test_adaptable_ranges_of_the_physical_preset():
    names = [r.name for r in adaptable_ranges(_physical(), 3.0)]
    assert names == ["physical.objects.*.mass", "physical.objects.*.friction", "physical.objects.*.restitution",
                     "physical.joint_damping", "robot.gain_scale", "action.noise_std"]
    mass = adaptable_ranges(_physical(), 3.0)[0]
    assert mass.initial == (0.5, 2.0) and mass.limit == pytest.approx((0.125, 8.0))  # log width x3 about ln 1


def test_easy_task_widens_every_range_monotonically_to_its_envelope():
    state = AdaptiveState(_physical(), SETTINGS)
    history = _run(state, 800, lambda data, boundary: True)
    for name in history[0]:
        los = [h[name][0] for h in history]
        his = [h[name][1] for h in history]
        assert all(b <= a for a, b in zip(los, los[1:], strict=False)), name  # never narrows
        assert all(b >= a for a, b in zip(his, his[1:], strict=False)), name
    for r in state.ranges:
        assert (r.lo, r.hi) == r.limit, r.name  # the envelope, exactly


def test_impossible_task_keeps_the_initial_ranges():
    state = AdaptiveState(_physical(), SETTINGS)
    history = _run(state, 400, lambda data, boundary: False)
    assert all(h == history[0] for h in history)
    assert sum(len(q) for q in state.queues.values()) < len(state.queues) * SETTINGS.queue  # queues were emptied


def test_a_bound_stops_where_success_ends():
    state = AdaptiveState(_physical(), SETTINGS)
    # episodes fail when the pinned mass factor exceeds 2.6: that bound moves out one step (2.0 -> 2.75), fails
    # there, moves back, and never gets further; the other bounds reach their envelope
    history = _run(state, 600, lambda data, b: not (b and b["parameter"].endswith("mass") and b["value"] > 2.6))
    highs = {h["physical.objects.*.mass"][1] for h in history}
    assert highs == {2.0, 2.75}
    assert state.ranges[0].lo == state.ranges[0].limit[0]
    assert all((r.lo, r.hi) == r.limit for r in state.ranges[1:])


def test_pinned_bounds_and_ranges_in_the_episode_config():
    state = AdaptiveState(_physical(), AdaptiveSettings(boundary_fraction=1.0))
    data, boundary = state.episode_config(np.random.default_rng(3))
    assert boundary is not None
    node = data
    for key in boundary["parameter"].split("."):
        node = node[key]
    assert node["low"] == node["high"] == boundary["value"]
    again, same = state.episode_config(np.random.default_rng(3))
    assert (again, same) == (data, boundary)
    data, boundary = AdaptiveState(_physical(), AdaptiveSettings(boundary_fraction=0.0)).episode_config(
        np.random.default_rng(3))
    assert boundary is None and data["robot"]["gain_scale"] == {"dist": "uniform", "low": 0.9, "high": 1.1}


def test_settings_are_validated_with_one_line():
    spec = load_scene("pick_place")
    with pytest.raises(SceneError, match=r"randomization.adaptive: .*low .* must be below high"):
        validate_randomization({"preset": "physical", "adaptive": {"low": 0.9, "high": 0.5}}, spec)
    with pytest.raises(SceneError, match=r"randomization.adaptive.queue"):
        validate_randomization({"adaptive": {"queue": 0}}, spec)
