"""Held-out splits: every held-out value lies outside its training range and inside its envelope (property tests
over many seeds and ranges), presets and files declare them, and bad requests are one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from randomization.distributions import Choice, LogUniform, Normal, Outside, Scale, Uniform, parse_distribution
from randomization.heldout import HELDOUT_WIDEN, LIMITS, heldout_distribution
from randomization.load import load_randomization, validate_randomization
from randomization.params import sample_episode_params
from scenes.loader import load_scene
from sim.errors import SceneError

FIELDS = sorted(LIMITS) + ["pos_jitter", "yaw"]  # bounded parameters and unbounded jitters


def _components(x) -> list[float]:
    return [float(v) for v in (x if isinstance(x, list) else [x])]


def _check_samples(held: Outside, train_lo: list[float], train_hi: list[float], seeds: range, field: str) -> None:
    lim_lo, lim_hi, _ = LIMITS.get(field, (-math.inf, math.inf, False))
    env_lo, env_hi = _components(held.low), _components(held.high)
    for seed in seeds:
        value = _components(held.sample(np.random.default_rng(seed)))
        for i, v in enumerate(value):
            lo, hi = train_lo[i % len(train_lo)], train_hi[i % len(train_hi)]
            if lo == hi:  # a component training holds constant stays constant
                assert v == lo
                continue
            assert not lo <= v <= hi, (field, v, lo, hi)
            assert env_lo[i % len(env_lo)] <= v <= env_hi[i % len(env_hi)]
            assert lim_lo <= v <= lim_hi


@st.composite
def _uniform_in_limits(draw):
    field = draw(st.sampled_from(FIELDS))
    lim_lo, lim_hi, positive = LIMITS.get(field, (-50.0, 50.0, False))
    lim_lo, lim_hi = max(lim_lo, -50.0), min(lim_hi, 50.0)
    a = draw(st.floats(lim_lo, lim_hi, allow_nan=False))
    b = draw(st.floats(lim_lo, lim_hi, allow_nan=False))
    lo, hi = min(a, b), max(a, b)
    if positive and lo <= 0:
        lo = (hi if hi > 0 else 1.0) / 4
    if lo == lim_lo and hi == lim_hi or hi - lo < 1e-6:  # nothing outside: a one-line error (tested below)
        hi = lo + 0.25 * (hi - lo) if hi - lo >= 1e-6 else lo + 1e-3
    return field, lo, hi


@settings(max_examples=150, deadline=None)
@given(_uniform_in_limits(), st.integers(0, 2**32 - 1))
def test_heldout_uniform_never_inside_the_training_range(case, seed):
    field, lo, hi = case
    lim_lo, lim_hi, _ = LIMITS.get(field, (-math.inf, math.inf, False))
    try:
        held = heldout_distribution(Uniform(low=lo, high=hi), field)
    except SceneError as exc:  # only when the limits leave nothing outside the range
        assert "cannot hold out" in str(exc)
        return
    assert isinstance(held, Outside)
    _check_samples(held, [lo], [hi], range(seed, seed + 40), field)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 0.45), st.floats(0.55, 1.0)).filter(lambda r: r != (0.0, 1.0)),
                min_size=1, max_size=4),  # [0, 1] itself leaves nothing to hold out (a SceneError, tested below)
       st.integers(0, 2**32 - 1))
def test_heldout_vectors_hold_out_every_component(ranges, seed):
    lo, hi = [r[0] for r in ranges], [r[1] for r in ranges]
    held = heldout_distribution(Uniform(low=lo, high=hi), "rgba")
    assert isinstance(held, Outside)
    _check_samples(held, lo, hi, range(seed, seed + 40), "rgba")


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 5.0), st.floats(1.05, 20.0), st.integers(0, 2**32 - 1))
def test_heldout_scale_factors_are_widened_in_log_space(low, ratio, seed):
    held = heldout_distribution(Scale(low=low, high=low * ratio), "mass")
    assert isinstance(held, Scale) and isinstance(held.factor, Outside) and held.factor.log
    f = held.factor
    assert f.low == pytest.approx(low / ratio ** ((HELDOUT_WIDEN - 1) / 2))  # log-width widened WIDEN times
    assert f.high == pytest.approx(low * ratio ** ((HELDOUT_WIDEN + 1) / 2))
    for s in range(seed, seed + 40):
        value = held.sample(np.random.default_rng(s), 0.5)  # nominal mass 0.5 kg
        factor = value / 0.5
        assert not low <= factor <= low * ratio and f.low <= factor * (1 + 1e-12) and factor <= f.high * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_heldout_of_other_laws(seed):
    cases = [
        (Normal(mean=0.0, std=0.02, low=-0.05, high=0.05), "gravity_jitter", [-0.05], [0.05]),
        (Normal(mean=0.0, std=0.1), "pos_jitter", [-0.3], [0.3]),  # untruncated: mean +- 3 std
        (LogUniform(low=2.0, high=8.0), "repeat", [2.0], [8.0]),
        (Choice(values=[0.0, 0.5, 0.8]), "blur_sigma", [0.0], [0.8]),
        (Choice(values=[0, 1], p=[0.9, 0.1]), "latency", [0.0], [1.0]),
        (Choice(values=[2, 4]), "count", [2.0], [4.0]),
    ]
    for dist, field, lo, hi in cases:
        held = heldout_distribution(dist, field)
        _check_samples(held, lo, hi, range(seed, seed + 20), field)
        if field in ("latency", "count"):
            assert held.integer and all(float(held.sample(np.random.default_rng(s))).is_integer()
                                        for s in range(seed, seed + 20))


def test_heldout_full_on_pick_place_over_many_episodes():
    spec = load_scene("pick_place")
    train = load_randomization("full", spec)
    held = load_randomization("heldout:full", spec)
    assert held == validate_randomization({"preset": "full", "heldout": True}, spec)
    nominal_mass = spec.object("cube").mass
    for i in range(200):
        p = sample_episode_params(held, spec, 7, i)
        factor = p.physical["mass"]["cube"] / nominal_mass
        assert not 0.5 <= factor <= 2.0 and 0.25 <= factor <= 4.0
        assert p.action["latency"] == 2  # training {0, 1}, envelope one whole step wider, clipped at 0
        assert 0.02 < p.action["noise_std"] <= 0.03
        assert not 0.9 <= p.robot["gain_scale"] <= 1.1
        for e in p.physical["restitution"].values():
            assert 0.2 < e <= 0.3
        rgb = p.visual["rgba"]["cube"][:3]
        assert all(c < 0.05 or c > 0.95 for c in rgb)
    t = sample_episode_params(train, spec, 7, 0)
    assert 0.5 <= t.physical["mass"]["cube"] / nominal_mass <= 2.0  # the training config is unchanged


def test_heldout_configs_round_trip_and_bad_requests_are_one_line():
    spec = load_scene("pick_place")
    held = load_randomization("heldout:full", spec)
    again = validate_randomization(held.to_dict(), spec)  # as stored in ep_meta: regenerable
    assert again == held
    assert load_randomization("heldout:none", spec).to_dict() == load_randomization("none", spec).to_dict()
    for ref, match in (("heldout:", "heldout:PRESET"), ("heldout:heldout:full", "heldout:PRESET"),
                       ("heldout:nope", "unknown randomization preset")):
        with pytest.raises(SceneError, match=match):
            load_randomization(ref, spec)
    with pytest.raises(SceneError, match="heldout: must be true or false"):
        validate_randomization({"preset": "full", "heldout": "yes"}, spec)
    whole = {"physical": {"objects": {"cube": {"restitution": {"dist": "uniform", "low": 0.0, "high": 1.0}}}},
             "heldout": True}
    with pytest.raises(SceneError, match=r"restitution: cannot hold out"):
        validate_randomization(whole, spec)
    with pytest.raises(ValueError):
        parse_distribution({"dist": "outside", "low": 0, "high": 1, "inner_low": 0.5, "inner_high": 2})
